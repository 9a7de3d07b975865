package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"glaux/internal/athena"
	"glaux/internal/testenv"
)

// These tests drive the real runner (python/glaux_runner) in fake-Spark mode, except the
// TestRealSpark ones, which start a real driver: they need Java (GLAUX_SKIP=spark leaves
// them out).

// moduleRoot walks up from the package directory to go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// findPython picks the runner's interpreter: $GLAUX_PYTHON, scripts/pyenv.sh, or the probe venv.
func findPython(t *testing.T) string {
	t.Helper()
	testenv.Need(t, testenv.Python)
	if p := os.Getenv("GLAUX_PYTHON"); p != "" {
		return p
	}
	if script := filepath.Join(moduleRoot(t), "scripts", "pyenv.sh"); fileExists(script) {
		out, err := exec.Command(script).Output()
		if err == nil {
			lines := strings.Fields(strings.TrimSpace(string(out)))
			if len(lines) > 0 && fileExists(lines[len(lines)-1]) {
				return lines[len(lines)-1]
			}
		}
		t.Logf("scripts/pyenv.sh gave no interpreter (err %v)", err)
	}
	if p := "/tmp/probe-venv/bin/python"; fileExists(p) {
		return p
	}
	testenv.Missing(t, testenv.Python, "no Python for the runner: set GLAUX_PYTHON, or provide scripts/pyenv.sh or /tmp/probe-venv")
	return ""
}

// runnerPath is the directory holding the glaux_runner package ($GLAUX_RUNNER_PATH overrides).
func runnerPath(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GLAUX_RUNNER_PATH")
	if dir == "" {
		dir = filepath.Join(moduleRoot(t), "python")
	}
	if !fileExists(filepath.Join(dir, "glaux_runner", "__main__.py")) {
		t.Fatalf("no runner at %s/glaux_runner", dir)
	}
	return dir
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func fakeConfig(t *testing.T) Config {
	return Config{
		Python:         findPython(t),
		RunnerPath:     runnerPath(t),
		Env:            []string{"GLAUX_FAKE_SPARK=1"},
		StartTimeout:   30 * time.Second,
		TerminateGrace: 2 * time.Second,
	}
}

// events records what a runner reports and lets a test wait for it.
type events struct {
	mu     sync.Mutex
	list   []athena.RunnerEvent
	notify chan struct{}
}

func newEvents() *events { return &events{notify: make(chan struct{}, 1)} }

func (e *events) sink(ev athena.RunnerEvent) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

func (e *events) all() []athena.RunnerEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]athena.RunnerEvent(nil), e.list...)
}

// wait returns the first recorded event that matches, failing after d.
func (e *events) wait(t *testing.T, d time.Duration, match func(athena.RunnerEvent) bool) athena.RunnerEvent {
	t.Helper()
	deadline := time.After(d)
	for {
		for _, ev := range e.all() {
			if match(ev) {
				return ev
			}
		}
		select {
		case <-e.notify:
		case <-deadline:
			t.Fatalf("no matching event within %s; got %+v", d, e.all())
		}
	}
}

func typeIs(types ...athena.RunnerEventType) func(athena.RunnerEvent) bool {
	return func(ev athena.RunnerEvent) bool {
		for _, typ := range types {
			if ev.Type == typ {
				return true
			}
		}
		return false
	}
}

func doneFor(id string) func(athena.RunnerEvent) bool {
	return func(ev athena.RunnerEvent) bool { return ev.Type == athena.EventDone && ev.CalculationID == id }
}

// startRunner starts a session runner and terminates it when the test ends.
func startRunner(t *testing.T, cfg Config, conf map[string]string) (athena.Runner, *events, string) {
	t.Helper()
	scratch := filepath.Join(t.TempDir(), "session")
	ev := newEvents()
	rt := New(cfg, testLogger(t))
	r, err := rt.Start(context.Background(), athena.RunnerSpec{
		SessionID: "sess-" + strings.ReplaceAll(t.Name(), "/", "-"), WorkGroup: "primary",
		EngineVersion: "PySpark engine version 3", SparkConf: conf, ScratchDir: scratch,
	}, ev.sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.Terminate(ctx)
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(scratch, "runner.log")); err == nil {
				t.Logf("runner.log:\n%s", b)
			}
		}
	})
	return r, ev, scratch
}

// run executes code as a calculation and returns its done event and output dir.
func run(t *testing.T, r athena.Runner, ev *events, scratch, id, code string, d time.Duration) (athena.RunnerEvent, string) {
	t.Helper()
	dir := filepath.Join(scratch, "calc", id)
	if err := r.Execute(id, code, dir); err != nil {
		t.Fatal(err)
	}
	return ev.wait(t, d, doneFor(id)), dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// resultDocument reads a calculation's result.json as athena.ResultDocument defines it: a
// field the runner writes that the definition lacks fails the test.
func resultDocument(t *testing.T, dir string) athena.ResultDocument {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(readFile(t, filepath.Join(dir, athena.ResultFile))))
	dec.DisallowUnknownFields()
	var doc athena.ResultDocument
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("result.json: %v", err)
	}
	return doc
}

func TestExecute(t *testing.T) {
	r, ev, scratch := startRunner(t, fakeConfig(t), nil)
	ev.wait(t, 20*time.Second, typeIs(athena.EventReady))
	if fi, err := os.Stat(scratch); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("scratch dir: %v, %v; want mode 0700", fi, err)
	}

	done, dir := run(t, r, ev, scratch, "calc-ok", "print(6*7)\n6*7", 10*time.Second)
	if done.Status != "ok" {
		t.Fatalf("done = %+v; want status ok", done)
	}
	ev.wait(t, time.Second, func(e athena.RunnerEvent) bool {
		return e.Type == athena.EventStarted && e.CalculationID == "calc-ok"
	})
	if out := readFile(t, filepath.Join(dir, "stdout.txt")); !strings.Contains(out, "42") {
		t.Fatalf("stdout.txt = %q; want 42", out)
	}
	if !fileExists(filepath.Join(dir, athena.StderrFile)) {
		t.Errorf("%s missing", athena.StderrFile)
	}
	if doc := resultDocument(t, dir); len(doc.Outputs) != 1 || doc.Outputs[0].ExecutionCount == 0 || doc.Outputs[0].Data["text/plain"] != "42" {
		t.Errorf("result.json = %+v; want the execute_result 42", doc)
	}

	done, dir = run(t, r, ev, scratch, "calc-err", "from IPython.display import display\ndisplay('shown')\n1/0", 10*time.Second)
	if done.Status != "error" || done.EName != "ZeroDivisionError" {
		t.Fatalf("done = %+v; want error ZeroDivisionError", done)
	}
	if errText := readFile(t, filepath.Join(dir, "stderr.txt")); !strings.Contains(errText, "ZeroDivisionError") {
		t.Fatalf("stderr.txt = %q; want the exception", errText)
	}
	if doc := resultDocument(t, dir); doc.Version != 1 || doc.CalculationID != "calc-err" || doc.Status != "error" ||
		doc.Error == nil || doc.Error.EName != "ZeroDivisionError" || len(doc.Error.Traceback) == 0 ||
		len(doc.Outputs) != 1 || doc.Outputs[0].OutputType != "display_data" {
		t.Fatalf("result.json = %+v; want version 1 with the display output and the error", doc)
	}

	// Fake Spark has no UI, but the driver (the runner) is real.
	execs, err := r.Executors(context.Background())
	if err != nil || len(execs) != 1 || !execs[0].IsDriver || !execs[0].Active || execs[0].AddTime.IsZero() {
		t.Fatalf("Executors = %+v, %v; want one active driver", execs, err)
	}
}

func TestInterrupt(t *testing.T) {
	r, ev, scratch := startRunner(t, fakeConfig(t), nil)
	ev.wait(t, 20*time.Second, typeIs(athena.EventReady))
	dir := filepath.Join(scratch, "calc", "spin")
	if err := r.Execute("spin", "while True: pass", dir); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, 10*time.Second, func(e athena.RunnerEvent) bool {
		return e.Type == athena.EventStarted && e.CalculationID == "spin"
	})
	time.Sleep(100 * time.Millisecond) // let the loop begin
	if err := r.Interrupt(); err != nil {
		t.Fatal(err)
	}
	done := ev.wait(t, 10*time.Second, doneFor("spin"))
	if done.Status != "aborted" {
		t.Fatalf("done = %+v; want aborted", done)
	}
	// The session survives a stop.
	if done, _ := run(t, r, ev, scratch, "after", "print('still here')", 10*time.Second); done.Status != "ok" {
		t.Fatalf("done after interrupt = %+v", done)
	}
}

func TestTerminate(t *testing.T) {
	r, ev, _ := startRunner(t, fakeConfig(t), nil)
	ev.wait(t, 20*time.Second, typeIs(athena.EventReady))
	pgid := r.Pid()

	start := time.Now()
	if err := r.Terminate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("terminated in %s", time.Since(start))
	exited := ev.wait(t, time.Second, typeIs(athena.EventExited))
	if exited.Unexpected {
		t.Fatalf("exited = %+v; want Unexpected=false", exited)
	}
	assertGroupGone(t, pgid)
	// Twice is fine, and a gone runner refuses work.
	if err := r.Terminate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Execute("late", "1", t.TempDir()); err == nil {
		t.Fatal("Execute after Terminate succeeded")
	}
	if err := r.Interrupt(); err == nil {
		t.Fatal("Interrupt after Terminate succeeded")
	}
	time.Sleep(100 * time.Millisecond)
	assertExitedOnceLast(t, ev)
}

// A runner busy in user code gets SIGTERM then SIGKILL when shutdown is not enough.
func TestTerminateBusy(t *testing.T) {
	cfg := fakeConfig(t)
	cfg.TerminateGrace = 300 * time.Millisecond
	r, ev, scratch := startRunner(t, cfg, nil)
	ev.wait(t, 20*time.Second, typeIs(athena.EventReady))
	code := "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(0.05)"
	if err := r.Execute("busy", code, filepath.Join(scratch, "calc", "busy")); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, 10*time.Second, typeIs(athena.EventStarted))
	time.Sleep(200 * time.Millisecond)

	start := time.Now()
	var wg sync.WaitGroup
	for range 2 { // concurrent calls both return once the runner is gone
		wg.Go(func() {
			if err := r.Terminate(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if took := time.Since(start); took > cfg.TerminateGrace+killGrace+2*time.Second {
		t.Fatalf("Terminate took %s", took)
	}
	exited := ev.wait(t, time.Second, typeIs(athena.EventExited))
	if exited.Unexpected {
		t.Fatalf("exited = %+v; want Unexpected=false", exited)
	}
	assertGroupGone(t, r.Pid())
}

func TestRunnerKilled(t *testing.T) {
	r, ev, _ := startRunner(t, fakeConfig(t), nil)
	ev.wait(t, 20*time.Second, typeIs(athena.EventReady))
	if err := syscall.Kill(r.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	exited := ev.wait(t, time.Second, typeIs(athena.EventExited))
	if !exited.Unexpected || !strings.Contains(exited.Reason, "signal killed") {
		t.Fatalf("exited = %+v; want unexpected, killed by signal", exited)
	}
	if _, err := r.Executors(context.Background()); err == nil {
		t.Fatal("Executors of a dead runner succeeded")
	}
	assertExitedOnceLast(t, ev)
}

func TestRunnerEnvironment(t *testing.T) {
	t.Setenv("GLAUX_SECRET_PROBE", "leaked")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "leaked")
	cfg := fakeConfig(t)
	cfg.Env = append(cfg.Env, "GLAUX_EXTRA=extra")
	r, ev, scratch := startRunner(t, cfg, map[string]string{"spark.master": "local[1]"})
	ev.wait(t, 20*time.Second, typeIs(athena.EventReady))
	code := `import os, json, tempfile
e = os.environ
print(e.get("GLAUX_SECRET_PROBE"), e.get("AWS_SECRET_ACCESS_KEY"))
print(e["GLAUX_SESSION_ID"], e["GLAUX_WORKGROUP"], e["GLAUX_EXTRA"], e["GLAUX_ENGINE_VERSION"])
print(json.loads(e["GLAUX_SPARK_CONF"])["spark.master"])
print(tempfile.gettempdir())
print(e["PYSPARK_PYTHON"])`
	done, dir := run(t, r, ev, scratch, "env", code, 10*time.Second)
	if done.Status != "ok" {
		t.Fatalf("done = %+v", done)
	}
	got := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(dir, "stdout.txt"))), "\n")
	want := []string{
		"None None",
		"sess-TestRunnerEnvironment primary extra PySpark engine version 3",
		"local[1]",
		filepath.Join(scratch, "tmp"),
		cfg.Python,
	}
	if len(got) != len(want) {
		t.Fatalf("stdout = %q; want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %q; want %q", i, got[i], want[i])
		}
	}
}

func TestBadInterpreter(t *testing.T) {
	cfg := fakeConfig(t)
	cfg.Python = filepath.Join(t.TempDir(), "no-such-python")
	ev := newEvents()
	r, err := New(cfg, testLogger(t)).Start(context.Background(), athena.RunnerSpec{
		SessionID: "s", ScratchDir: filepath.Join(t.TempDir(), "s"),
	}, ev.sink)
	if err == nil {
		r.Terminate(context.Background())
		t.Fatal("Start with a missing interpreter succeeded")
	}
	if len(ev.all()) != 0 {
		t.Fatalf("a failed Start reported events: %+v", ev.all())
	}
}

// A runner that dies before ready fails its session with the log's last words.
func TestRunnerCrashReason(t *testing.T) {
	cfg := fakeConfig(t)
	cfg.RunnerPath = t.TempDir() // no glaux_runner here
	_, ev, _ := startRunner(t, cfg, nil)
	exited := ev.wait(t, 20*time.Second, typeIs(athena.EventExited))
	if !exited.Unexpected || !strings.Contains(exited.Reason, "runner exited with code 1") ||
		!strings.Contains(exited.Reason, "No module named glaux_runner") {
		t.Fatalf("exited = %+v", exited)
	}
}

// A runner that never becomes ready is killed, group and all, after StartTimeout.
func TestStartTimeout(t *testing.T) {
	dir := t.TempDir()
	python := filepath.Join(dir, "python")
	// Stands in for an interpreter whose Spark hangs; the background sleep is the "JVM".
	script := "#!/bin/sh\necho starting spark >&2\nsleep 60 &\nwait\n"
	if err := os.WriteFile(python, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Python: python, StartTimeout: 300 * time.Millisecond}
	r, ev, _ := startRunner(t, cfg, nil)
	exited := ev.wait(t, 5*time.Second, typeIs(athena.EventExited))
	if !exited.Unexpected || !strings.Contains(exited.Reason, "did not become ready within 300ms") ||
		!strings.Contains(exited.Reason, "starting spark") {
		t.Fatalf("exited = %+v", exited)
	}
	assertGroupGone(t, r.Pid())
}

// assertGroupGone checks that no process of the runner's group is left. Killed
// grandchildren are reaped by init, not by us, so they may linger for a moment.
func assertGroupGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := syscall.Kill(-pgid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kill(-%d, 0) = %v; want ESRCH (process group gone)", pgid, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func assertExitedOnceLast(t *testing.T, ev *events) {
	t.Helper()
	all := ev.all()
	for i, e := range all {
		if e.Type == athena.EventExited && i != len(all)-1 {
			t.Fatalf("EventExited at %d of %d: %+v", i, len(all), all)
		}
	}
	if len(all) == 0 || all[len(all)-1].Type != athena.EventExited {
		t.Fatalf("last event is not EventExited: %+v", all)
	}
}

// needSpark is for the tests that start a real Spark driver: they need Java.
func needSpark(t *testing.T) {
	t.Helper()
	testenv.Need(t, testenv.Spark)
	if _, err := exec.LookPath("java"); err != nil && os.Getenv("JAVA_HOME") == "" {
		testenv.Missing(t, testenv.Spark, "java is not installed (nor JAVA_HOME set): a real Spark driver needs it")
	}
}

// TestRealSpark starts a real local[1] driver (about 10 s).
func TestRealSpark(t *testing.T) {
	needSpark(t)
	cfg := fakeConfig(t)
	cfg.Env = nil
	cfg.StartTimeout = 2 * time.Minute
	cfg.TerminateGrace = 15 * time.Second
	conf := map[string]string{
		"spark.master":                 "local[1]",
		"spark.ui.port":                "0", // any free port; ready reports the one Spark took
		"spark.driver.bindAddress":     "127.0.0.1",
		"spark.driver.host":            "127.0.0.1",
		"spark.sql.shuffle.partitions": "1",
	}
	r, ev, scratch := startRunner(t, cfg, conf)
	ready := ev.wait(t, 2*time.Minute, typeIs(athena.EventReady, athena.EventExited))
	if ready.Type != athena.EventReady || ready.UIURL == "" || ready.AppID == "" {
		t.Fatalf("ready = %+v", ready)
	}
	done, dir := run(t, r, ev, scratch, "count", "print(spark.range(100).count())", time.Minute)
	if done.Status != "ok" {
		t.Fatalf("done = %+v", done)
	}
	if out := readFile(t, filepath.Join(dir, "stdout.txt")); !strings.Contains(out, "100") {
		t.Fatalf("stdout.txt = %q", out)
	}
	// Generous: on a loaded 2-core machine Spark's REST API has answered after more than 10 s.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	execs, err := r.Executors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var driver *athena.ExecutorInfo
	for i := range execs {
		if execs[i].IsDriver {
			driver = &execs[i]
		}
	}
	if driver == nil || !driver.Active || driver.Cores < 1 || driver.MemoryMB <= 0 || driver.AddTime.IsZero() {
		t.Fatalf("executors = %+v; want an active driver", execs)
	}
	pgid := r.Pid()
	if err := r.Terminate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exited := ev.wait(t, time.Second, typeIs(athena.EventExited)); exited.Unexpected {
		t.Fatalf("exited = %+v", exited)
	}
	assertGroupGone(t, pgid) // the JVM too
}

// A Spark that cannot start ends the session with the runner's "ExceptionType: message".
func TestRealSparkStartFailure(t *testing.T) {
	needSpark(t)
	cfg := fakeConfig(t)
	cfg.Env = nil
	cfg.StartTimeout = 2 * time.Minute
	_, ev, _ := startRunner(t, cfg, map[string]string{"spark.master": "local[bogus]"})
	exited := ev.wait(t, 2*time.Minute, typeIs(athena.EventReady, athena.EventExited))
	if exited.Type != athena.EventExited || !exited.Unexpected || !strings.Contains(exited.Reason, "local[bogus]") {
		t.Fatalf("event = %+v; want EventExited naming the bad master", exited)
	}
	t.Logf("reason: %s", exited.Reason)
}

// A runner that dies takes its JVM with it, and the session learns at once.
func TestRealSparkRunnerKilled(t *testing.T) {
	needSpark(t)
	cfg := fakeConfig(t)
	cfg.Env = nil
	cfg.StartTimeout = 2 * time.Minute
	r, ev, _ := startRunner(t, cfg, map[string]string{"spark.master": "local[1]", "spark.ui.enabled": "false"})
	if ready := ev.wait(t, 2*time.Minute, typeIs(athena.EventReady, athena.EventExited)); ready.Type != athena.EventReady {
		t.Fatalf("ready = %+v", ready)
	}
	if _, err := r.Executors(context.Background()); err == nil {
		t.Error("Executors without a Spark UI succeeded")
	}
	if err := syscall.Kill(r.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if exited := ev.wait(t, time.Second, typeIs(athena.EventExited)); !exited.Unexpected {
		t.Fatalf("exited = %+v", exited)
	}
	assertGroupGone(t, r.Pid())
}
