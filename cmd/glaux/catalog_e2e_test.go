package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"glaux/internal/catalog"
)

// catalogConfig is a server with the embedded shared catalog (docs/catalog.md) and the table
// formats, their jars from the cache scripts/cluster-deps.sh catalog and tables fill.
func catalogConfig(t *testing.T, dataDir string) *Config {
	testPython(t)
	cfg := newConfig(t, dataDir)
	cfg.Catalog, cfg.CatalogJars, cfg.WarmPool = "derby", filepath.Join(defaultCacheDir(), "catalog"), 1
	cfg.TableJars = filepath.Join(defaultCacheDir(), "tables")
	return cfg
}

// The query every later session runs: both tables of session A, read.
const catalogQuery = `print(sorted(r.tableName for r in spark.sql("SHOW TABLES IN shared_db").collect()),
      spark.table("shared_db.saved").selectExpr("sum(n)").first()[0],
      spark.sql("SELECT sum(v) FROM shared_db.made").first()[0])`

const catalogWant = "['made', 'saved'] 45 3\n"

// TestCatalogShared: a database and tables made in one session are seen by the next ones,
// by two at once, and after glaux restarts; the metastore database needs its password and
// stops with glaux. Iceberg and Delta tables too (tables_e2e_test.go).
func TestCatalogShared(t *testing.T) {
	tableJarsDir(t)
	dir := t.TempDir()
	cfg := catalogConfig(t, dir)
	s := startServer(t, cfg)
	createSparkWorkGroup(t, s.Client, "cat")

	a := startIdleSession(t, s.Client, "cat", nil)
	out := wantCompleted(t, s, a, `import time
t0 = time.perf_counter()
spark.sql("SHOW DATABASES").collect()
first = time.perf_counter() - t0
spark.sql("CREATE DATABASE shared_db")
spark.range(10).withColumnRenamed("id", "n").write.saveAsTable("shared_db.saved")
spark.sql("CREATE TABLE shared_db.made (k STRING, v INT) USING parquet")
spark.sql("INSERT INTO shared_db.made VALUES ('a', 1), ('b', 2)")
print(spark.conf.get("spark.sql.catalogImplementation"), spark.conf.get("spark.hadoop.javax.jdo.option.ConnectionURL"))
print(f"first SQL statement {first:.2f}s")`)
	t.Logf("session A: %s", out)
	m := regexp.MustCompile(`^hive jdbc:derby://127\.0\.0\.1:(\d+)/metastore;create=true\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("session A's catalog: %q", out)
	}
	port := m[1]
	for _, p := range []string{"shared_db.db/saved", "shared_db.db/made"} {
		if _, err := os.Stat(filepath.Join(dir, "warehouse", p)); err != nil {
			t.Errorf("table in the installation's warehouse: %v", err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "metastore", "derby.properties")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("derby.properties (it holds the password): %v %v, want 0600", fi.Mode(), err)
	}
	checkTables(t, s, a, "session A", tablesWrite, tablesWriteWant)
	if _, err := s.Client.TerminateSession(context.Background(), &athena.TerminateSessionInput{SessionId: aws.String(a)}); err != nil {
		t.Fatal(err)
	}
	waitSession(t, s.Client, a, time.Minute, types.SessionStateTerminated)

	// Two sessions at once, both reading A's tables, one also writing.
	b1 := startIdleSession(t, s.Client, "cat", nil)
	b2 := startIdleSession(t, s.Client, "cat", nil)
	c1 := startCalc(t, s.Client, b1, catalogQuery)
	c2 := startCalc(t, s.Client, b2, catalogQuery+`
spark.range(3).write.saveAsTable("shared_db.from_b2")`)
	for _, c := range []*athena.StartCalculationExecutionOutput{c1, c2} {
		done := waitCalcState(t, s.Client, *c.CalculationExecutionId, types.CalculationExecutionStateCompleted, 3*time.Minute)
		if got := readObject(t, s, *done.Result.StdOutS3Uri); got != catalogWant {
			t.Errorf("a later session reading A's tables printed %q, want %q", got, catalogWant)
		}
	}
	if got := wantCompleted(t, s, b1, `print(spark.table("shared_db.from_b2").count())`); got != "3\n" {
		t.Errorf("b1 reading b2's table: %q", got)
	}
	checkTables(t, s, b1, "a second session", tablesRead, tablesReadWant)
	s.stop()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		c.Close()
		t.Errorf("the metastore database still listens on %s after glaux stopped", port)
	}

	s = startServer(t, catalogConfig(t, dir))
	createSparkWorkGroup(t, s.Client, "cat-after")
	c := startIdleSession(t, s.Client, "cat-after", nil)
	got := wantCompleted(t, s, c, `import time
t0 = time.perf_counter()
spark.sql("SHOW DATABASES").collect()
print(f"first SQL statement {time.perf_counter() - t0:.2f}s")
`+catalogQuery)
	t.Logf("session C: %s", got)
	if want := "['from_b2', 'made', 'saved'] 45 3\n"; !strings.HasSuffix(got, "s\n"+want) {
		t.Errorf("after a restart, reading the tables printed %q, want %q", got, want)
	}
	// The database takes only glaux's password.
	got = wantCompleted(t, s, c, `url = spark.conf.get("spark.hadoop.javax.jdo.option.ConnectionURL")
try:
    spark._jvm.java.sql.DriverManager.getConnection(url, "glaux", "wrong").close()
    print("connected")
except Exception as e:
    print("refused" if "08004" in str(e) else str(e))`)
	if got != "refused\n" {
		t.Errorf("a wrong password: %q, want refused", got)
	}
}

// TestCatalogMissingJars: without the Derby jars glaux refuses to start and says how to get them.
func TestCatalogMissingJars(t *testing.T) {
	cfg := catalogConfig(t, "")
	cfg.CatalogJars = t.TempDir()
	err := serve(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "scripts/cluster-deps.sh catalog") || !strings.Contains(err.Error(), "--catalog memory") {
		t.Fatalf("serve without the catalog jars: %v", err)
	}
}

// startHiveMetastore runs Hive's standalone metastore from pyspark's own jars (embedded Derby
// in dir) until the test ends, and returns its thrift URI.
func startHiveMetastore(t *testing.T, dir string) string {
	t.Helper()
	pj, err := catalog.PySparkJars(context.Background(), testPython(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	java := "java"
	if h := os.Getenv("JAVA_HOME"); h != "" {
		java = filepath.Join(h, "bin", "java")
	}
	logf, err := os.Create(filepath.Join(dir, "metastore.log"))
	if err != nil {
		t.Fatal(err)
	}
	// Without async logging off it dies on a missing LMAX disruptor.
	cmd := exec.Command(java, "-Dhive.async.log.enabled=false", "-Dhive.metastore.schema.verification=false",
		"-Ddatanucleus.schema.autoCreateAll=true", "-Dderby.system.home="+dir,
		"-cp", filepath.Join(pj, "*"), "org.apache.hadoop.hive.metastore.HiveMetaStore", "-p", strconv.Itoa(port))
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Hive's metastore: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, "Hive's metastore on "+addr, 3*time.Minute, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "thrift://" + addr
}

// TestCatalogExternal: with --catalog-uri, sessions of two glaux installations share the
// tables of an external Hive metastore, and glaux runs no metastore database of its own.
func TestCatalogExternal(t *testing.T) {
	uri := startHiveMetastore(t, t.TempDir())
	first := catalogConfig(t, "")
	first.Catalog, first.CatalogURI = "hive", uri
	s := startServer(t, first)
	createSparkWorkGroup(t, s.Client, "ext")
	a := startIdleSession(t, s.Client, "ext", nil)
	got := wantCompleted(t, s, a, `spark.sql("CREATE DATABASE ext_db")
spark.range(5).write.saveAsTable("ext_db.t")
print(spark.conf.get("spark.hadoop.hive.metastore.uris"), spark.table("ext_db.t").count())`)
	if got != uri+" 5\n" {
		t.Fatalf("session with --catalog-uri printed %q", got)
	}
	if _, err := os.Stat(filepath.Join(first.DataDir, "metastore")); err == nil {
		t.Error("glaux made a metastore database of its own with --catalog-uri")
	}
	s.stop()

	second := catalogConfig(t, "")
	second.Catalog, second.CatalogURI, second.WarmPool = "hive", uri, 0
	s = startServer(t, second)
	createSparkWorkGroup(t, s.Client, "ext")
	b := startIdleSession(t, s.Client, "ext", nil)
	if got := wantCompleted(t, s, b, `print(spark.table("ext_db.t").selectExpr("sum(id)").first()[0])`); got != "10\n" {
		t.Fatalf("another installation reading the table: %q", got)
	}
}
