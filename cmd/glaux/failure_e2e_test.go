package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// longSparkJob runs for minutes on one core unless something ends it.
const longSparkJob = "import time\nsc.parallelize(range(10000), 1000).map(lambda v: time.sleep(0.1) or v).count()"

// TestFailureRunnerKilled: a runner killed with SIGKILL fails its session with a reason
// within seconds, fails its unfinished calculations, and leaves the server serving.
func TestFailureRunnerKilled(t *testing.T) {
	testPython(t)
	t.Parallel()
	s := startServer(t, newConfig(t, ""))
	c, ctx := s.Client, context.Background()
	createSparkWorkGroup(t, c, "killed")
	session := startIdleSession(t, c, "killed", nil)
	running := startCalc(t, c, session, longSparkJob)
	queued := startCalc(t, c, session, "print('never')")
	waitCalcState(t, c, *running.CalculationExecutionId, types.CalculationExecutionStateRunning, 30*time.Second)

	pid := s.Svc.RunnerPid(session)
	if pid <= 0 {
		t.Fatalf("no runner pid for session %s", session)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	st := waitSession(t, c, session, 10*time.Second, types.SessionStateFailed, types.SessionStateTerminated)
	t.Logf("FAILED %s after SIGKILL: %q", time.Since(killed).Round(100*time.Millisecond), aws.ToString(st.StateChangeReason))
	if st.State != types.SessionStateFailed || !strings.Contains(aws.ToString(st.StateChangeReason), "signal") || st.EndDateTime == nil {
		t.Errorf("session after SIGKILL: %s %q", st.State, aws.ToString(st.StateChangeReason))
	}
	for _, id := range []string{*running.CalculationExecutionId, *queued.CalculationExecutionId} {
		out := getCalc(t, c, id)
		if out.Status.State != types.CalculationExecutionStateFailed || aws.ToString(out.Status.StateChangeReason) == "" || out.Status.CompletionDateTime == nil {
			t.Errorf("calculation %s of the killed session: %s %q", id, out.Status.State, aws.ToString(out.Status.StateChangeReason))
		}
	}
	noRunnerOf(t, s, session) // the JVM died with its runner

	// The server is unaffected: it answers, and the failed session is final.
	if _, err := c.ListWorkGroups(ctx, &athena.ListWorkGroupsInput{}); err != nil {
		t.Errorf("ListWorkGroups after a runner died: %v", err)
	}
	if out, err := c.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(session)}); err != nil || out.State != types.SessionStateFailed {
		t.Errorf("TerminateSession on the FAILED session: %+v, %v", out, err)
	}
	_, err := c.StartCalculationExecution(ctx, &athena.StartCalculationExecutionInput{SessionId: aws.String(session), CodeBlock: aws.String("1")})
	wantErr[*types.InvalidRequestException](t, err, "FAILED")
	ex, err := c.ListExecutors(ctx, &athena.ListExecutorsInput{SessionId: aws.String(session)})
	if err != nil || len(ex.ExecutorsSummary) == 0 {
		t.Fatalf("ListExecutors of the FAILED session: %+v, %v", ex, err)
	}
	for _, e := range ex.ExecutorsSummary {
		if e.ExecutorState == types.ExecutorStateRegistered || e.TerminationDateTime == nil {
			t.Errorf("executor of a FAILED session: %s %s end %v", aws.ToString(e.ExecutorId), e.ExecutorState, e.TerminationDateTime)
		}
	}
	// A fresh session on the same server still works (fake Spark would not tell: this is real).
	wantCompleted(t, s, startIdleSession(t, c, "killed", nil), "print(sc.parallelize(range(4)).sum())")
}

// TestFailureRestart: glaux stopped mid-session and started again on the same data dir ends
// the session with a reason, fails its unfinished calculations and keeps the finished ones
// and their objects; no runner outlives the first server.
func TestFailureRestart(t *testing.T) {
	testPython(t)
	t.Parallel()
	dir := t.TempDir()
	first := startServer(t, newConfig(t, dir))
	c := first.Client
	createSparkWorkGroup(t, c, "restart")
	session := startIdleSession(t, c, "restart", nil)
	done := runCalculation(t, c, session, "print('kept')")
	running := startCalc(t, c, session, longSparkJob)
	queued := startCalc(t, c, session, "print('never')")
	waitCalcState(t, c, *running.CalculationExecutionId, types.CalculationExecutionStateRunning, 30*time.Second)
	stopping := time.Now()
	if err := first.shutdown(); err != nil { // also fails if a runner process is left
		t.Fatal(err)
	}
	t.Logf("shutdown took %s", time.Since(stopping).Round(100*time.Millisecond))

	second := startServer(t, newConfig(t, dir))
	c = second.Client
	st := getSession(t, c, session).Status
	if (st.State != types.SessionStateTerminated && st.State != types.SessionStateFailed) || aws.ToString(st.StateChangeReason) == "" || st.EndDateTime == nil {
		t.Errorf("session after the restart: %s %q", st.State, aws.ToString(st.StateChangeReason))
	}
	t.Logf("session after the restart: %s %q", st.State, aws.ToString(st.StateChangeReason))
	for _, id := range []string{*running.CalculationExecutionId, *queued.CalculationExecutionId} {
		out := getCalc(t, c, id)
		if out.Status.State != types.CalculationExecutionStateFailed || aws.ToString(out.Status.StateChangeReason) == "" {
			t.Errorf("unfinished calculation after the restart: %s %q", out.Status.State, aws.ToString(out.Status.StateChangeReason))
		}
	}
	kept := getCalc(t, c, *done.CalculationExecutionId)
	if kept.Status.State != types.CalculationExecutionStateCompleted || !kept.Status.CompletionDateTime.Equal(*done.Status.CompletionDateTime) {
		t.Errorf("finished calculation after the restart: %+v", kept.Status)
	}
	if stdout, _ := wantResult(t, second, kept); stdout != "kept\n" {
		t.Errorf("stdout of the finished calculation after the restart: %q", stdout)
	}
	listed, err := c.ListSessions(context.Background(), &athena.ListSessionsInput{WorkGroup: aws.String("restart")})
	if err != nil || len(listed.Sessions) != 0 {
		t.Errorf("ListSessions lists the ended session as active: %+v, %v", listed, err)
	}
	_, err = c.StartCalculationExecution(context.Background(), &athena.StartCalculationExecutionInput{SessionId: aws.String(session), CodeBlock: aws.String("1")})
	wantErr[*types.InvalidRequestException](t, err, string(st.State))
}

// TestFailureBadSparkProperty: a Spark property that keeps Spark from starting fails the
// session with the reason; it never stays CREATING.
func TestFailureBadSparkProperty(t *testing.T) {
	testPython(t)
	t.Parallel()
	s := startServer(t, newConfig(t, ""))
	c, ctx := s.Client, context.Background()
	createSparkWorkGroup(t, c, "bad")
	for _, tc := range []struct {
		name, key, value, reason string
	}{
		// The reason must carry the JVM's own complaint, not only PySpark's JAVA_GATEWAY_EXITED.
		{"master", "spark.master", "bogus://x", "Master must either be yarn or start with spark"},
		{"driver memory", "spark.driver.memory", "abc", "Invalid maximum heap size: -Xmxabc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.StartSession(ctx, &athena.StartSessionInput{WorkGroup: aws.String("bad"),
				EngineConfiguration: &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(2), SparkProperties: map[string]string{tc.key: tc.value}}})
			if err != nil {
				t.Fatalf("StartSession: %v", err)
			}
			t0 := time.Now()
			st := waitSession(t, c, *out.SessionId, 2*time.Minute, types.SessionStateIdle, types.SessionStateFailed, types.SessionStateTerminated)
			reason := aws.ToString(st.StateChangeReason)
			t.Logf("%s=%s: %s after %s: %q", tc.key, tc.value, st.State, time.Since(t0).Round(100*time.Millisecond), reason)
			if st.State != types.SessionStateFailed || !strings.HasPrefix(reason, "The Spark driver could not be started: ") || !strings.Contains(reason, tc.reason) || st.EndDateTime == nil {
				t.Errorf("%s=%s: %s %q", tc.key, tc.value, st.State, reason)
			}
			noRunnerOf(t, s, *out.SessionId)
		})
	}
}

// childServeEnv makes the test binary a plain `glaux serve` with these flags (see TestMain):
// a server in its own process, which a test can kill as a crash would.
const childServeEnv = "GLAUX_TEST_CHILD_SERVE"

// childServe runs serve() with args and writes the bound address to the file named by the
// --addr-file argument (the first one).
func childServe(args string) int {
	fields := strings.Fields(args)
	addrFile, flags := fields[0], fields[1:]
	cfg, err := parseConfig(flags)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child glaux:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ready := make(chan string, 1)
	go func() {
		addr := <-ready
		os.WriteFile(addrFile+".tmp", []byte(addr), 0o600)
		os.Rename(addrFile+".tmp", addrFile)
	}()
	if err := serve(ctx, cfg, ready); err != nil {
		fmt.Fprintln(os.Stderr, "child glaux:", err)
		return 1
	}
	return 0
}

// warmUpWatch watches the runners under scratch for a warm runner's Spark Connect warm-up
// client (connect.py), a child process of the runner.
type warmUpWatch struct {
	scratch string
	seen    atomic.Bool // one has run
}

func (w *warmUpWatch) running() bool {
	for _, p := range runnerProcesses(w.scratch) {
		if strings.Contains(p, "GLAUX_WARMUP_URL") {
			w.seen.Store(true)
			return true
		}
	}
	return false
}

// watch polls until ctx ends, so that a warm-up that comes and goes is seen.
func (w *warmUpWatch) watch(ctx context.Context) {
	for ctx.Err() == nil {
		w.running()
		time.Sleep(20 * time.Millisecond)
	}
}

// wait returns once a warm-up client runs, or at once (false) if one has run and ended.
func (w *warmUpWatch) wait(t *testing.T, timeout time.Duration) bool {
	t.Helper()
	for start := time.Now(); !w.running(); time.Sleep(20 * time.Millisecond) {
		if w.seen.Load() {
			return false
		}
		if time.Since(start) > timeout {
			t.Fatalf("no warm-up client ran within %s: %v", timeout, runnerProcesses(w.scratch))
		}
	}
	return true
}

// TestFailureCrash: glaux killed with SIGKILL mid-session. Its runners notice and exit on
// their own (no runner outlives glaux), and the next glaux on the data dir fails the session
// and its unfinished calculations, keeping the finished one and its objects.
func TestFailureCrash(t *testing.T) {
	py := testPython(t)
	t.Parallel()
	dir := t.TempDir()
	addrFile := filepath.Join(t.TempDir(), "addr")
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), childServeEnv+"="+addrFile+" --addr 127.0.0.1:0 --data-dir "+dir+" --python "+py+" --memory-per-dpu 512 --log-level warn")
	var logs strings.Builder
	child.Stdout, child.Stderr = &logs, &logs
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			child.Process.Kill()
			child.Wait()
		}
		// Stop what we started even when the test failed: the runners end on their own.
		for range 300 {
			if len(runnerProcesses(filepath.Join(dir, "scratch"))) == 0 {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("runners of the killed glaux are still alive: %v", runnerProcesses(filepath.Join(dir, "scratch")))
	})
	var addr []byte
	for deadline := time.Now().Add(30 * time.Second); len(addr) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the child glaux did not start:\n%s", logs.String())
		}
		addr, _ = os.ReadFile(addrFile)
	}
	warmUp := &warmUpWatch{scratch: filepath.Join(dir, "scratch")}
	watching, stopWatching := context.WithCancel(context.Background())
	defer stopWatching()
	go warmUp.watch(watching)
	c := newClient("http://"+string(addr), "test", "test")
	createSparkWorkGroup(t, c, "crash")
	session := startIdleSession(t, c, "crash", nil)
	done := runCalculation(t, c, session, "print('kept')")
	running := startCalc(t, c, session, longSparkJob)
	queued := startCalc(t, c, session, "print('never')")
	waitCalcState(t, c, *running.CalculationExecutionId, types.CalculationExecutionStateRunning, 30*time.Second)
	// Kill while the pool's next runner warms its Spark Connect server up from a client
	// process of its own, a child that must not outlive glaux either (when that window has
	// already passed, python/tests/test_children.py still covers it).
	if warmUp.wait(t, 2*time.Minute) {
		t.Log("killing glaux while a warm runner's warm-up client runs")
	} else {
		t.Log("the warm runner's warm-up had ended before the kill")
	}

	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killed = true
	crashed := time.Now()
	for len(runnerProcesses(filepath.Join(dir, "scratch"))) > 0 {
		if time.Since(crashed) > 30*time.Second {
			t.Fatalf("runners outlived the killed glaux by 30s: %v", runnerProcesses(filepath.Join(dir, "scratch")))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("runner and JVM gone %s after glaux was killed", time.Since(crashed).Round(100*time.Millisecond))

	s := startServer(t, newConfig(t, dir))
	st := getSession(t, s.Client, session).Status
	t.Logf("session after the crash: %s %q", st.State, aws.ToString(st.StateChangeReason))
	if st.State != types.SessionStateFailed || aws.ToString(st.StateChangeReason) == "" || st.EndDateTime == nil {
		t.Errorf("session after the crash: %s %q", st.State, aws.ToString(st.StateChangeReason))
	}
	for _, id := range []string{*running.CalculationExecutionId, *queued.CalculationExecutionId} {
		out := getCalc(t, s.Client, id)
		if out.Status.State != types.CalculationExecutionStateFailed || aws.ToString(out.Status.StateChangeReason) == "" || out.Status.CompletionDateTime == nil {
			t.Errorf("unfinished calculation after the crash: %s %q", out.Status.State, aws.ToString(out.Status.StateChangeReason))
		}
	}
	kept := getCalc(t, s.Client, *done.CalculationExecutionId)
	if stdout, _ := wantResult(t, s, kept); kept.Status.State != types.CalculationExecutionStateCompleted || stdout != "kept\n" {
		t.Errorf("finished calculation after the crash: %s %q", kept.Status.State, stdout)
	}
}
