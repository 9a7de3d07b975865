package catalog

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// realJars finds pyspark's Derby and the cached derbynet/derbyclient, as glaux does.
func realJars(t *testing.T) Jars {
	t.Helper()
	py := os.Getenv("GLAUX_PYTHON")
	if py == "" {
		t.Skip("GLAUX_PYTHON is not set: run the suite with scripts/test")
	}
	pj, err := PySparkJars(context.Background(), py)
	if err != nil {
		t.Fatal(err)
	}
	cache := os.Getenv("GLAUX_CACHE_DIR")
	if cache == "" {
		cache = filepath.Join(os.Getenv("HOME"), ".cache", "glaux")
		if os.Geteuid() == 0 {
			cache = "/var/cache/glaux"
		}
	}
	j, err := FindJars(pj, filepath.Join(cache, "catalog"))
	if err != nil {
		t.Fatal(err) // scripts/test fetches them: missing is a failure
	}
	return j
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// The server starts on loopback, comes back on the same port when it dies, and is gone
// after Stop.
func TestServer(t *testing.T) {
	jars := realJars(t)
	dir := t.TempDir()
	s, err := Start(context.Background(), Options{Dir: dir, Password: "pw", Jars: jars, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	port := s.Port()
	if !listening(port) {
		t.Fatalf("not listening on %d", port)
	}
	conf := s.SparkConf()
	if !strings.Contains(conf["spark.hadoop.javax.jdo.option.ConnectionURL"], "//127.0.0.1:"+strconv.Itoa(port)+"/") ||
		conf["spark.hadoop.javax.jdo.option.ConnectionPassword"] != "pw" || conf["spark.driver.extraClassPath"] != jars.Client {
		t.Errorf("SparkConf: %v", conf)
	}
	if fi, err := os.Stat(filepath.Join(dir, "derby.properties")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("derby.properties: %v %v", fi, err)
	}
	s.mu.Lock()
	pid := s.cmd.Process.Pid
	s.mu.Unlock()
	syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(time.Minute)
	for {
		s.mu.Lock()
		again := s.cmd.Process.Pid != pid
		s.mu.Unlock()
		if again && listening(port) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server was not restarted within a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.Stop()
	if listening(port) {
		t.Fatalf("still listening on %d after Stop", port)
	}
}

// A port in use is refused at once, not taken for a ready server.
func TestServerPortInUse(t *testing.T) {
	jars := realJars(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Start(context.Background(), Options{Dir: t.TempDir(), Port: ln.Addr().(*net.TCPAddr).Port, Password: "pw", Jars: jars, Log: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "catalog port") {
		t.Fatalf("Start on a used port: %v", err)
	}
}

// FindJars wants derbynet and derbyclient of exactly pyspark's Derby version.
func TestFindJars(t *testing.T) {
	pj, cache := t.TempDir(), t.TempDir()
	touch := func(dir, name string) {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"derby-10.16.1.1.jar", "derbyshared-10.16.1.1.jar", "derbytools-10.16.1.1.jar"} {
		touch(pj, n)
	}
	touch(cache, "derbynet-10.15.2.0.jar")
	touch(cache, "derbyclient-10.16.1.1.jar")
	if _, err := FindJars(pj, cache); err == nil || !strings.Contains(err.Error(), "derbynet-10.16.1.1.jar") || !strings.Contains(err.Error(), "scripts/cluster-deps.sh catalog") {
		t.Fatalf("FindJars with another derbynet version: %v", err)
	}
	touch(cache, "derbynet-10.16.1.1.jar")
	j, err := FindJars(pj, cache)
	if err != nil || j.Version != "10.16.1.1" || j.Client != filepath.Join(cache, "derbyclient-10.16.1.1.jar") || len(j.Server) != 4 {
		t.Fatalf("FindJars: %+v %v", j, err)
	}
	if _, err := FindJars(t.TempDir(), cache); err == nil {
		t.Fatal("FindJars without pyspark's derby jar: no error")
	}
}

func TestPasswordIsStablePerSecret(t *testing.T) {
	a, b := Password([]byte("one")), Password([]byte("two"))
	if a != Password([]byte("one")) || a == b || len(a) != 64 {
		t.Fatalf("Password: %q %q", a, b)
	}
}

// TestTableJars: one of each table format's jars, or an error naming what is missing.
func TestTableJars(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"iceberg-spark-runtime-4.1_2.13-1.12.0.jar", "delta-spark_4.1_2.13-4.4.0.jar"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := TableJars(dir); err == nil || !strings.Contains(err.Error(), "delta-storage-*.jar (found 0)") || !strings.Contains(err.Error(), "scripts/cluster-deps.sh tables") {
		t.Errorf("without delta-storage: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "delta-storage-4.4.0.jar"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	jars, err := TableJars(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "iceberg-spark-runtime-4.1_2.13-1.12.0.jar"), filepath.Join(dir, "delta-spark_4.1_2.13-4.4.0.jar"), filepath.Join(dir, "delta-storage-4.4.0.jar")}
	if !slices.Equal(jars, want) {
		t.Errorf("jars = %v, want %v", jars, want)
	}
	conf := TableConf(jars, "s3a://b/warehouse/")
	if conf["spark.sql.catalog.iceberg.warehouse"] != "s3a://b/warehouse/iceberg" || conf["spark.jars"] != strings.Join(want, ",") {
		t.Errorf("TableConf: %v", conf)
	}
	if err := os.WriteFile(filepath.Join(dir, "delta-storage-4.3.0.jar"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := TableJars(dir); err == nil || !strings.Contains(err.Error(), "delta-storage-*.jar (found 2)") {
		t.Errorf("two versions of delta-storage: %v", err)
	}
}
