// Package catalog runs the installation's table catalog database, a Derby network server on
// loopback that every session's Hive metastore client shares, and says which Spark
// properties sessions need to use it or an external metastore (docs/catalog.md).
package catalog

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// User is the Derby user sessions connect as.
const User = "glaux"

// Jars are what the metastore server and its clients run with: Derby's engine from pyspark
// (derby, derbyshared, derbytools) plus derbynet, and derbyclient for the sessions' drivers,
// all of one Derby version.
type Jars struct {
	Version string
	Server  []string // the network server's classpath
	Client  string   // the JDBC client driver, for spark.driver.extraClassPath
}

// PySparkJars asks python where pyspark's bundled jars are.
func PySparkJars(ctx context.Context, python string) (string, error) {
	out, err := exec.CommandContext(ctx, python, "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))").Output()
	if err != nil {
		return "", fmt.Errorf("finding pyspark with %s: %w", python, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "jars"), nil
}

// FindJars reads the Derby version pyspark bundles in pysparkJars and finds derbynet and
// derbyclient of exactly that version in dir (scripts/cluster-deps.sh catalog fetches them).
func FindJars(pysparkJars, dir string) (Jars, error) {
	engine, _ := filepath.Glob(filepath.Join(pysparkJars, "derby-[0-9]*.jar"))
	if len(engine) != 1 {
		return Jars{}, fmt.Errorf("want one derby-<version>.jar in %s, found %d", pysparkJars, len(engine))
	}
	v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(engine[0]), "derby-"), ".jar")
	j := Jars{Version: v, Client: filepath.Join(dir, "derbyclient-"+v+".jar")}
	for _, p := range []string{
		engine[0],
		filepath.Join(pysparkJars, "derbyshared-"+v+".jar"),
		filepath.Join(pysparkJars, "derbytools-"+v+".jar"),
		filepath.Join(dir, "derbynet-"+v+".jar"),
	} {
		j.Server = append(j.Server, p)
	}
	for _, p := range append(j.Server[1:], j.Client) {
		if _, err := os.Stat(p); err != nil {
			return Jars{}, fmt.Errorf("the catalog needs Derby %s's %s: %w (run scripts/cluster-deps.sh catalog)", v, filepath.Base(p), err)
		}
	}
	return j, nil
}

// Password derives the Derby user's password from the installation's secret, so it stays
// the same across restarts without being stored anywhere but the data dir.
func Password(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("glaux metastore password"))
	return hex.EncodeToString(m.Sum(nil))
}

// Options configure the metastore server.
type Options struct {
	Dir      string // derby.system.home; the database is Dir/metastore
	Port     int    // 0: a free one
	Password string
	Java     string // "" : $JAVA_HOME/bin/java, else java from PATH
	Jars     Jars
	Log      *slog.Logger
	Timeout  time.Duration // for the server to be ready; 0: one minute
}

// Server is a running Derby network server, restarted on the same port if it dies.
type Server struct {
	o    Options
	port int

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
	done    chan struct{} // closed when supervision ends
}

// Start starts the server and returns once it accepts connections.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Java == "" {
		o.Java = "java"
		if h := os.Getenv("JAVA_HOME"); h != "" {
			o.Java = filepath.Join(h, "bin", "java")
		}
	}
	if o.Timeout == 0 {
		o.Timeout = time.Minute
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	// BUILTIN authentication: other local users reach the port, not the tables. The file is
	// read when the engine boots; 0600 as it holds the password.
	props := "derby.connection.requireAuthentication=true\nderby.authentication.provider=BUILTIN\n" +
		"derby.user." + User + "=" + o.Password + "\n"
	if err := writePrivate(filepath.Join(o.Dir, "derby.properties"), props); err != nil {
		return nil, err
	}
	port := o.Port
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	s := &Server{o: o, port: port, done: make(chan struct{})}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	go s.supervise()
	return s, nil
}

func writePrivate(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil { // an older file keeps its mode otherwise
		f.Close()
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// start runs the JVM and waits for Derby's "ready to accept connections" line.
func (s *Server) start(ctx context.Context) error {
	// A port someone else holds would look ready to a connection check: make sure it is free.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)))
	if err != nil {
		return fmt.Errorf("catalog port %d: %w", s.port, err)
	}
	ln.Close()
	logf, err := os.OpenFile(filepath.Join(s.o.Dir, "server.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.o.Java, "-Dderby.system.home="+s.o.Dir, "-cp", strings.Join(s.o.Jars.Server, string(os.PathListSeparator)),
		"org.apache.derby.drda.NetworkServerControl", "start", "-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "-noSecurityManager")
	cmd.Dir = s.o.Dir
	cmd.SysProcAttr = sysProcAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting the catalog's Derby server: %w", err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if strings.Contains(sc.Text(), "ready to accept connections") {
				once.Do(func() { close(ready) })
			}
		}
		io.Copy(logf, out)
	}()
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	t := time.NewTimer(s.o.Timeout)
	defer t.Stop()
	select {
	case <-ready:
		s.o.Log.Info("catalog database serving", "port", s.port, "derby", s.o.Jars.Version, "dir", s.o.Dir)
		return nil
	case <-exited:
		return fmt.Errorf("the catalog's Derby server exited at start (%s): see %s", cmd.ProcessState, filepath.Join(s.o.Dir, "server.log"))
	case <-t.C:
	case <-ctx.Done():
	}
	cmd.Process.Kill()
	<-exited
	return fmt.Errorf("the catalog's Derby server was not ready within %s: see %s", s.o.Timeout, filepath.Join(s.o.Dir, "server.log"))
}

// supervise restarts the server, on the same port sessions were told, when it dies.
func (s *Server) supervise() {
	defer close(s.done)
	for {
		s.mu.Lock()
		exited := s.exited
		s.mu.Unlock()
		<-exited
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			return
		}
		s.o.Log.Error("the catalog's Derby server exited; restarting it", "log", filepath.Join(s.o.Dir, "server.log"))
		for {
			time.Sleep(time.Second)
			s.mu.Lock()
			stopped := s.stopped
			s.mu.Unlock()
			if stopped {
				return
			}
			err := s.start(context.Background())
			if err == nil {
				break
			}
			s.o.Log.Error("restarting the catalog's Derby server", "err", err)
		}
	}
}

// Port is the port the server listens on, on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Stop ends the server. Derby's transaction log keeps what was committed.
func (s *Server) Stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	for {
		// A restart in progress may start one more process: end each until supervision is over.
		s.mu.Lock()
		cmd, exited := s.cmd, s.exited
		s.mu.Unlock()
		cmd.Process.Signal(interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		select {
		case <-s.done:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// SparkConf is what a session needs to use this server as its Hive metastore's database.
func (s *Server) SparkConf() map[string]string {
	return map[string]string{
		"spark.sql.catalogImplementation":                    "hive",
		"spark.hadoop.javax.jdo.option.ConnectionURL":        fmt.Sprintf("jdbc:derby://127.0.0.1:%d/metastore;create=true", s.port),
		"spark.hadoop.javax.jdo.option.ConnectionDriverName": "org.apache.derby.jdbc.ClientDriver",
		"spark.hadoop.javax.jdo.option.ConnectionUserName":   User,
		"spark.hadoop.javax.jdo.option.ConnectionPassword":   s.o.Password,
		// The schema is made by the first session that uses it.
		"spark.hadoop.datanucleus.schema.autoCreateAll":   "true",
		"spark.hadoop.hive.metastore.schema.verification": "false",
		"spark.driver.extraClassPath":                     s.o.Jars.Client,
	}
}

// ExternalConf is what a session needs to use the Hive metastore at uri (thrift://host:port).
func ExternalConf(uri string) map[string]string {
	return map[string]string{
		"spark.sql.catalogImplementation":  "hive",
		"spark.hadoop.hive.metastore.uris": uri,
	}
}

// CheckURI accepts thrift://host:port, comma-separated for several metastores.
func CheckURI(uri string) error {
	for _, u := range strings.Split(uri, ",") {
		hp, ok := strings.CutPrefix(u, "thrift://")
		if !ok {
			return errors.New("--catalog-uri must be thrift://host:port")
		}
		if _, port, err := net.SplitHostPort(hp); err != nil || port == "" {
			return fmt.Errorf("--catalog-uri %q: want thrift://host:port", u)
		}
	}
	return nil
}
