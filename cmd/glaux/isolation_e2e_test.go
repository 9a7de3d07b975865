package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"glaux/internal/runtime"
	"glaux/internal/testenv"
)

// The runner isolation tests (docs/security.md) need what --runner-user needs: glaux running
// as root, the user glaux-runner with subordinate ids, and a GLAUX_PYTHON that user can run
// (not one under /root). A missing piece fails them, saying which, unless
// GLAUX_SKIP=isolation (what scripts/test sets when not run as root).

const isolationUser = "glaux-runner"

func skipOrFailIsolation(t *testing.T, format string, args ...any) {
	t.Helper()
	testenv.Missing(t, testenv.Isolation, format, args...)
}

// isolationEnv is a temp dir other users may pass through (t.TempDir is 0700) with a
// credentials file and a policy file in it, private to root as an operator keeps them.
type isolationEnv struct {
	dir, dataDir, credFile, policyFile string
}

func newIsolationEnv(t *testing.T) *isolationEnv {
	t.Helper()
	testenv.Need(t, testenv.Isolation)
	if os.Geteuid() != 0 {
		skipOrFailIsolation(t, "runner isolation needs root: glaux starts runners under other user ids (run as root, as CI does)")
	}
	if _, err := runtime.LookupRunnerUser(isolationUser); err != nil {
		skipOrFailIsolation(t, "no usable runner user: %v", err)
	}
	testPython(t)
	dir, err := os.MkdirTemp("", "glaux-isolation-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	e := &isolationEnv{dir: dir, dataDir: filepath.Join(dir, "data"), credFile: filepath.Join(dir, "credentials"), policyFile: filepath.Join(dir, "policies.json")}
	if err := os.WriteFile(e.credFile, []byte("test:test\nAKIAISOLATION:isolation-credential-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	policy := `{"principals":{"all":{"access_keys":["test","AKIAISOLATION"],"policy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}}}}`
	if err := os.WriteFile(e.policyFile, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *isolationEnv) config(t *testing.T) *Config {
	t.Helper()
	cfg := newConfig(t, e.dataDir)
	creds, err := parseCredentials("", e.credFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials, cfg.PolicyFile, cfg.RunnerUser = creds, e.policyFile, isolationUser
	return cfg
}

// startIsolated is startServer for a server with --runner-user, whose start-up checks may
// find this machine unable to isolate (then the test skips or fails, see above).
func startIsolated(t *testing.T, cfg *Config) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	s := &testServer{t: t, cfg: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- serve(ctx, cfg, ready) }()
	select {
	case addr := <-ready:
		s.Endpoint = "http://" + addr
	case err := <-s.done:
		cancel()
		if strings.Contains(fmt.Sprint(err), "--runner-user") {
			skipOrFailIsolation(t, "this machine cannot isolate runners: %v", err)
		}
		t.Fatalf("server did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start within 60s")
	}
	s.Client = newClient(s.Endpoint, "test", "test")
	s.Svc = serviceOf(cfg)
	t.Cleanup(s.stop)
	return s
}

// hostUID is the uid the kernel knows a process by (its first Uid: field).
func hostUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			uid, err := strconv.Atoi(strings.Fields(rest)[0])
			if err != nil {
				t.Fatal(err)
			}
			return uid
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return 0
}

func completedStdout(t *testing.T, s *testServer, session, code string) string {
	t.Helper()
	out := runCalculation(t, s.Client, session, code)
	if out.Status.State != types.CalculationExecutionStateCompleted {
		_, stderr := wantResult(t, s, out)
		t.Fatalf("calculation %q: %s %s\n%s", code, out.Status.State, aws.ToString(out.Status.StateChangeReason), stderr)
	}
	stdout, _ := wantResult(t, s, out)
	return stdout
}

// TestIsolationFiles: code in a calculation cannot read glaux's database (and with it the
// token secret), its credentials or policy file, another session's scratch files, glaux's or
// another runner's environment, nor signal another runner; each attempt is a PermissionError
// in the calculation's stderr. The same code reads its own session's files, and glaux reads
// the results it writes. One session takes the warm pool's runner, the other starts cold.
func TestIsolationFiles(t *testing.T) {
	e := newIsolationEnv(t)
	// In glaux's environment, where a leak into the runners' would show.
	t.Setenv("AWS_SECRET_ACCESS_KEY", "isolation-env-secret")
	t.Setenv("GLAUX_CREDENTIALS", "AKIAENV:isolation-env-credential")
	cfg := e.config(t)
	cfg.FakeSpark, cfg.WarmPool = true, 1
	s := startIsolated(t, cfg)
	createSparkWorkGroup(t, s.Client, "iso")
	waitFor(t, "a warm runner", 30*time.Second, func() bool { ready, _ := s.Svc.PoolSize(); return ready == 1 })
	a := startIdleSession(t, s.Client, "iso", nil) // the warm runner
	b := startIdleSession(t, s.Client, "iso", func(in *athena.StartSessionInput) {
		in.EngineConfiguration.SparkProperties = map[string]string{"spark.sql.warehouse.dir": "/elsewhere"} // not warm
	})
	pidA, pidB := s.Svc.RunnerPid(a), s.Svc.RunnerPid(b)
	uidA, uidB := hostUID(t, pidA), hostUID(t, pidB)
	if uidA == 0 || uidB == 0 || uidA == uidB {
		t.Errorf("runners run as host uids %d and %d: want two distinct unprivileged ones", uidA, uidB)
	}

	// Session A leaves a file in its working directory, its scratch dir.
	scratchA := strings.TrimSpace(completedStdout(t, s, a, "import os\nopen('a-secret.txt', 'w').write('top secret of A')\nprint(os.getcwd())"))
	if !strings.HasPrefix(scratchA, filepath.Join(e.dataDir, "scratch", "pool")+"/") {
		t.Fatalf("session A works in %q, not in a warm runner's scratch dir", scratchA)
	}
	if b, err := os.ReadFile(filepath.Join(scratchA, "a-secret.txt")); err != nil || string(b) != "top secret of A" {
		t.Fatalf("glaux reading A's file: %q, %v", b, err)
	}
	// B's warehouse, set elsewhere, moved into its scratch dir, the only place it may write.
	if wh := completedStdout(t, s, b, "import os\nprint(spark.conf.get('spark.sql.warehouse.dir') == os.path.join(os.getcwd(), 'warehouse'))"); wh != "True\n" {
		t.Fatalf("session B's warehouse is not in its scratch dir: %q", wh)
	}
	// B may read and write its own.
	if got := completedStdout(t, s, b, "open('mine.txt', 'w').write('ok')\nprint(open('mine.txt').read())"); got != "ok\n" {
		t.Fatalf("session B reading its own file: %q", got)
	}
	// The environment carries none of glaux's secrets.
	env := completedStdout(t, s, b, "import os\nfor k, v in sorted(os.environ.items()): print(f'{k}={v}')")
	for _, secret := range []string{"isolation-env-secret", "isolation-env-credential", "isolation-credential-secret", "AWS_SECRET_ACCESS_KEY", "GLAUX_CREDENTIALS"} {
		if strings.Contains(env, secret) {
			t.Errorf("the runner's environment has %q:\n%s", secret, env)
		}
	}

	calcDirs, err := filepath.Glob(filepath.Join(e.dataDir, "scratch", "sessions", a, "calculations", "*"))
	if err != nil {
		t.Fatal(err)
	}
	attempts := map[string]string{
		"database":                   fmt.Sprintf("open(%q, 'rb').read()", filepath.Join(e.dataDir, "glaux.db")),
		"database wal":               fmt.Sprintf("open(%q, 'rb').read()", filepath.Join(e.dataDir, "glaux.db-wal")),
		"data dir listing":           fmt.Sprintf("import os\nos.listdir(%q)", e.dataDir),
		"result objects":             fmt.Sprintf("import os\nos.listdir(%q)", filepath.Join(e.dataDir, "objects")),
		"credentials file":           fmt.Sprintf("open(%q).read()", e.credFile),
		"policy file":                fmt.Sprintf("open(%q).read()", e.policyFile),
		"other session's file":       fmt.Sprintf("open(%q).read()", filepath.Join(scratchA, "a-secret.txt")),
		"other session's scratch":    fmt.Sprintf("import os\nos.listdir(%q)", scratchA),
		"other session's runner log": fmt.Sprintf("open(%q).read()", filepath.Join(scratchA, "runner.log")),
		"other session's outputs":    fmt.Sprintf("import os\nos.listdir(%q)", filepath.Join(e.dataDir, "scratch", "sessions", a)),
		"glaux's environment":        fmt.Sprintf("open('/proc/%d/environ', 'rb').read()", os.Getpid()),
		"other runner's environment": fmt.Sprintf("open('/proc/%d/environ', 'rb').read()", pidA),
		"other runner's cwd":         fmt.Sprintf("open('/proc/%d/cwd/a-secret.txt').read()", pidA),
		"signal other runner":        fmt.Sprintf("import os, signal\nos.kill(%d, signal.SIGTERM)", pidA),
	}
	if len(calcDirs) > 0 {
		attempts["other session's calculation dir"] = fmt.Sprintf("import os\nos.listdir(%q)", calcDirs[0])
	}
	for name, code := range attempts {
		t.Run(name, func(t *testing.T) {
			out := runCalculation(t, s.Client, b, code)
			_, stderr := wantResult(t, s, out)
			reason := aws.ToString(out.Status.StateChangeReason)
			if out.Status.State != types.CalculationExecutionStateFailed || !strings.HasPrefix(reason, "PermissionError: ") || !strings.Contains(stderr, "PermissionError: ") {
				t.Fatalf("%s: %s %q, stderr:\n%s", code, out.Status.State, reason, stderr)
			}
		})
	}
	// In its own scratch dir a runner creates files, but cannot replace what glaux put there
	// (the log glaux reads back, the dir its outputs are made in).
	fi, err := os.Stat(scratchA)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 || fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o770 {
		t.Fatalf("A's scratch dir: uid %d mode %v, want root's, sticky, 0770", st.Uid, fi.Mode())
	}
	for name, code := range map[string]string{
		"remove glaux's log":          "import os\nos.remove('runner.log')",
		"replace glaux's log":         "import os\nos.symlink('/etc/hostname', 'x')\nos.rename('x', 'runner.log')",
		"move the calculations dir":   "import os\nos.rename('calculations', 'elsewhere')",
		"write into the calculations": "open('calculations/x', 'w')",
		"give away the scratch dir":   "import os\nos.chmod('.', 0o777)",
	} {
		t.Run(name, func(t *testing.T) {
			out := runCalculation(t, s.Client, a, code)
			_, stderr := wantResult(t, s, out)
			if reason := aws.ToString(out.Status.StateChangeReason); !strings.HasPrefix(reason, "PermissionError: ") {
				t.Fatalf("%s: %s %q, stderr:\n%s", code, out.Status.State, reason, stderr)
			}
		})
	}

	// A is untouched: still IDLE, its file intact.
	if st := waitSession(t, s.Client, a, 0, types.SessionStateIdle); st.State != types.SessionStateIdle {
		t.Fatalf("session A is %s", st.State)
	}
	if got := completedStdout(t, s, a, "print(open('a-secret.txt').read())"); got != "top secret of A\n" {
		t.Fatalf("session A's own file: %q", got)
	}

	// Once A ends, nothing runs as its uid and its scratch dir is gone (glaux removes a
	// session's scratch at its end, after the runtime took it back from the runner's ids).
	if _, err := s.Client.TerminateSession(context.Background(), &athena.TerminateSessionInput{SessionId: aws.String(a)}); err != nil {
		t.Fatal(err)
	}
	waitSession(t, s.Client, a, time.Minute, types.SessionStateTerminated)
	waitFor(t, "A's runner to be gone", 30*time.Second, func() bool { return syscall.Kill(pidA, 0) != nil })
	waitFor(t, "A's scratch dir to be removed", 30*time.Second, func() bool {
		_, err := os.Stat(scratchA)
		return os.IsNotExist(err)
	})
}

// TestIsolationControl: the attempts of TestIsolationFiles succeed without --runner-user,
// so their failing there is the isolation's doing, not the test's.
func TestIsolationControl(t *testing.T) {
	e := newIsolationEnv(t)
	cfg := e.config(t)
	cfg.FakeSpark, cfg.RunnerUser = true, ""
	s := startServer(t, cfg)
	createSparkWorkGroup(t, s.Client, "plain")
	sess := startIdleSession(t, s.Client, "plain", nil)
	got := completedStdout(t, s, sess, fmt.Sprintf("print(len(open(%q, 'rb').read()) > 0, 'isolation-credential-secret' in open(%q).read())",
		filepath.Join(e.dataDir, "glaux.db"), e.credFile))
	if got != "True True\n" {
		t.Fatalf("a runner without isolation reading glaux's files: %q", got)
	}
}

// TestIsolationSpark: real PySpark works as an isolated runner: the JVM and Python workers
// start under the runner's ids, write under its scratch dir (managed tables included, whose
// warehouse moves there) and read back. The shared catalog gives way to a catalog per
// session (docs/catalog.md).
func TestIsolationSpark(t *testing.T) {
	e := newIsolationEnv(t)
	cfg := e.config(t)
	cfg.Catalog = "derby"
	s := startIsolated(t, cfg)
	createSparkWorkGroup(t, s.Client, "iso-spark")
	sess := startIdleSession(t, s.Client, "iso-spark", nil)
	code := `import os
from pyspark.sql.functions import udf
df = spark.range(100).withColumn("y", udf(lambda v: v * 2, "long")("id"))
df.write.parquet(os.path.join(os.getcwd(), "out.parquet"))
df.write.saveAsTable("isolation_t")
print(spark.read.parquet("out.parquet").selectExpr("sum(y)").first()[0], spark.table("isolation_t").count())
print(os.getcwd() + "/warehouse" in spark.conf.get("spark.sql.warehouse.dir"), spark.conf.get("spark.sql.catalogImplementation"))`
	if got := completedStdout(t, s, sess, code); got != "9900 100\nTrue in-memory\n" {
		t.Fatalf("Spark as an isolated runner printed %q", got)
	}
	sqlOut := completedStdout(t, s, sess, "%%sql\nSELECT count(*) AS n FROM isolation_t")
	if !strings.Contains(sqlOut, "100") {
		t.Fatalf("%%%%sql on the isolated session: %q", sqlOut)
	}
}
