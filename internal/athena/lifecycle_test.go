package athena

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glaux/internal/wire"
)

// The session state machine, driven through the fake runtime (fakeruntime_test.go).
func TestSessionStates(t *testing.T) {
	for _, tc := range []struct {
		name        string
		startErr    error
		steps       func(e *rtEnv, sid string, r *fakeRunner)
		state       string
		reasonParts []string
	}{
		{name: "creating until Spark is up", steps: func(*rtEnv, string, *fakeRunner) {}, state: wire.SessionStateCreating},
		{name: "idle once ready", steps: func(_ *rtEnv, _ string, r *fakeRunner) { r.ready() }, state: wire.SessionStateIdle},
		{name: "the runner does not start", startErr: errNoJava, state: wire.SessionStateFailed,
			reasonParts: []string{"The Spark driver could not be started", "java: not found"}},
		{name: "the driver dies while starting", steps: func(_ *rtEnv, _ string, r *fakeRunner) { r.exit("exit code 1: SparkException", true) },
			state: wire.SessionStateFailed, reasonParts: []string{"The Spark driver could not be started: exit code 1: SparkException"}},
		{name: "the driver dies when ready", steps: func(_ *rtEnv, _ string, r *fakeRunner) { r.ready(); r.exit("signal: killed", true) },
			state: wire.SessionStateFailed, reasonParts: []string{"The Spark driver exited: signal: killed"}},
		{name: "terminated per request", steps: func(e *rtEnv, sid string, r *fakeRunner) {
			r.ready()
			out, err := e.svc.TerminateSession(e.ctx, &wire.TerminateSessionRequest{SessionId: &sid})
			mustOK(e.t, err)
			if *out.State != wire.SessionStateTerminating {
				e.t.Errorf("TerminateSession answered %s", *out.State)
			}
			r.waitExited(e.t)
		}, state: wire.SessionStateTerminated, reasonParts: []string{reasonTerminated}},
		{name: "terminated while starting", steps: func(e *rtEnv, sid string, r *fakeRunner) {
			_, err := e.svc.TerminateSession(e.ctx, &wire.TerminateSessionRequest{SessionId: &sid})
			mustOK(e.t, err)
			r.waitExited(e.t)
		}, state: wire.SessionStateTerminated},
		{name: "idle timeout", steps: func(e *rtEnv, _ string, r *fakeRunner) {
			r.ready()
			e.clock.Advance(19 * time.Minute)
			e.svc.expireIdle(e.ctx)
			if r.wasTerminated() {
				e.t.Error("terminated before the idle timeout")
			}
			e.clock.Advance(time.Minute)
			e.svc.expireIdle(e.ctx)
			r.waitExited(e.t)
		}, state: wire.SessionStateTerminated, reasonParts: []string{"idle for 20 minute(s)"}},
		{name: "degraded while silent", steps: func(e *rtEnv, _ string, r *fakeRunner) {
			r.ready()
			e.clock.Advance(degradedAfter + time.Second)
			e.svc.checkHealth(e.ctx)
		}, state: wire.SessionStateDegraded, reasonParts: []string{"has not answered for 11 seconds"}},
		{name: "healthy again once heard", steps: func(e *rtEnv, _ string, r *fakeRunner) {
			r.ready()
			e.clock.Advance(degradedAfter + time.Second)
			e.svc.checkHealth(e.ctx)
			r.hear()
			e.svc.checkHealth(e.ctx)
		}, state: wire.SessionStateIdle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRuntimeEnv(t, nil)
			e.rt.startErr = tc.startErr
			sid, state := e.startSession(nil)
			if state != wire.SessionStateCreating {
				t.Errorf("StartSession answered %s", state)
			}
			var r *fakeRunner
			if tc.startErr == nil {
				r = e.rt.next(t)
				if r.spec.SessionID != sid || !strings.HasSuffix(r.spec.ScratchDir, sid) {
					t.Errorf("runner spec %+v", r.spec)
				}
				tc.steps(e, sid, r)
			}
			sess := e.session(sid)
			if sess.State != tc.state {
				t.Fatalf("state %s (%s), want %s", sess.State, sess.StateChangeReason, tc.state)
			}
			for _, p := range tc.reasonParts {
				if !strings.Contains(sess.StateChangeReason, p) {
					t.Errorf("reason %q, want it to contain %q", sess.StateChangeReason, p)
				}
			}
			final := tc.state == wire.SessionStateFailed || tc.state == wire.SessionStateTerminated
			if final != !sess.EndTime.IsZero() || final != (e.svc.liveSession(sid) == nil) {
				t.Errorf("final %v, end time %v, live %v", final, sess.EndTime, e.svc.liveSession(sid) != nil)
			}
		})
	}
}

// DpuExecutionInMillis counts the session's DPUs over its life by the injected clock.
func TestSessionDPUTimeByTheClock(t *testing.T) {
	e := newRuntimeEnv(t, nil)
	sid, _ := e.startSession(nil)
	r := e.rt.next(t)
	r.ready()
	e.clock.Advance(90 * time.Second)
	r.exit("signal: killed", true)
	if got := e.session(sid).DpuMillis; got != 90_000 {
		t.Errorf("DpuMillis %d, want 90000", got)
	}
}

// readySession is an IDLE session on a fresh service, with its runner.
func readySession(t *testing.T, cfg func(*Config)) (*rtEnv, string, *fakeRunner) {
	t.Helper()
	e := newRuntimeEnv(t, cfg)
	sid, _ := e.startSession(nil)
	r := e.rt.next(t)
	r.ready()
	return e, sid, r
}

// Calculations: queueing in order, the queue depth, cancel (queued and running), failure,
// and what a session's end does to them.
func TestCalculations(t *testing.T) {
	t.Run("queued while Spark starts, then run in order", func(t *testing.T) {
		e := newRuntimeEnv(t, nil)
		sid, _ := e.startSession(nil)
		r := e.rt.next(t)
		a, stateA := e.mustSubmit(sid, "a")
		b, stateB := e.mustSubmit(sid, "b")
		if stateA != wire.CalculationExecutionStateQueued || stateB != wire.CalculationExecutionStateQueued {
			t.Errorf("states before ready: %s %s", stateA, stateB)
		}
		r.idle(t)
		r.ready()
		x := r.execution(t)
		if x.id != a || x.code != "a" || e.session(sid).State != wire.SessionStateBusy {
			t.Fatalf("ran %+v first; session %s", x, e.session(sid).State)
		}
		r.idle(t) // one at a time
		e.clock.Advance(3 * time.Second)
		r.finish(t, x, "ok", "", "")
		c := e.calc(a)
		if c.State != wire.CalculationExecutionStateCompleted || c.CompletionTime.Sub(c.StartTime) != 3*time.Second {
			t.Errorf("a: %s, ran %v", c.State, c.CompletionTime.Sub(c.StartTime))
		}
		// The three objects are stored, and the scratch files gone.
		for _, name := range []string{"stdout.txt", "stderr.txt", "result.json"} {
			rc, err := e.objs.Get(e.ctx, c.WorkingDirectory+name)
			mustOK(t, err)
			b, _ := io.ReadAll(rc)
			rc.Close()
			if name == "stdout.txt" && string(b) != "out of a\n" {
				t.Errorf("stdout object %q", b)
			}
		}
		if c.ResultURI != c.WorkingDirectory+"result.json" {
			t.Errorf("result URI %s", c.ResultURI)
		}
		y := r.execution(t)
		if y.id != b {
			t.Fatalf("then ran %s, want %s", y.id, b)
		}
		r.finish(t, y, "ok", "", "")
		if sess := e.session(sid); sess.State != wire.SessionStateIdle || !sess.IdleSince.Equal(e.clock.Now()) {
			t.Errorf("session %s idle since %v", sess.State, sess.IdleSince)
		}
	})

	t.Run("the queue depth", func(t *testing.T) {
		e, sid, _ := readySession(t, func(c *Config) { c.QueueDepth = 1 })
		_, state := e.mustSubmit(sid, "running")
		if state != wire.CalculationExecutionStateRunning {
			t.Errorf("first: %s", state)
		}
		if _, state := e.mustSubmit(sid, "waiting"); state != wire.CalculationExecutionStateQueued {
			t.Errorf("second: %s", state)
		}
		_, _, err := e.submit(sid, "one too many")
		wantErr(t, err, CodeInvalidRequest, busyMessage)
	})

	t.Run("cancel a queued one: it never runs", func(t *testing.T) {
		e, sid, r := readySession(t, nil)
		_, _ = e.mustSubmit(sid, "running")
		x := r.execution(t)
		q, _ := e.mustSubmit(sid, "queued")
		out, err := e.svc.StopCalculationExecution(e.ctx, &wire.StopCalculationExecutionRequest{CalculationExecutionId: &q})
		mustOK(t, err)
		if *out.State != wire.CalculationExecutionStateCanceled || e.calc(q).State != wire.CalculationExecutionStateCanceled {
			t.Errorf("stop answered %s, state %s", *out.State, e.calc(q).State)
		}
		r.finish(t, x, "ok", "", "")
		r.idle(t)
		if interrupts := r.interruptCount(); interrupts != 0 {
			t.Errorf("%d interrupts for a queued calculation", interrupts)
		}
	})

	t.Run("cancel a running one: interrupted, then CANCELED", func(t *testing.T) {
		e, sid, r := readySession(t, nil)
		id, _ := e.mustSubmit(sid, "while True: pass")
		x := r.execution(t)
		for range 2 { // a second stop changes nothing
			out, err := e.svc.StopCalculationExecution(e.ctx, &wire.StopCalculationExecutionRequest{CalculationExecutionId: &id})
			mustOK(t, err)
			if *out.State != wire.CalculationExecutionStateCanceling {
				t.Errorf("stop answered %s", *out.State)
			}
		}
		if interrupts := r.interruptCount(); interrupts != 1 || e.calc(id).State != wire.CalculationExecutionStateCanceling {
			t.Errorf("%d interrupts, state %s", interrupts, e.calc(id).State)
		}
		r.finish(t, x, "aborted", "KeyboardInterrupt", "")
		if c := e.calc(id); c.State != wire.CalculationExecutionStateCanceled || c.StateChangeReason != "Calculation was canceled per request." {
			t.Errorf("%s: %s", c.State, c.StateChangeReason)
		}
		out, err := e.svc.StopCalculationExecution(e.ctx, &wire.StopCalculationExecutionRequest{CalculationExecutionId: &id})
		mustOK(t, err)
		if *out.State != wire.CalculationExecutionStateCanceled {
			t.Errorf("stop of a canceled one answered %s", *out.State)
		}
	})

	t.Run("an exception fails it with the exception", func(t *testing.T) {
		e, sid, r := readySession(t, nil)
		id, _ := e.mustSubmit(sid, "x")
		r.finish(t, r.execution(t), "error", "NameError", "name 'x' is not defined")
		if c := e.calc(id); c.State != wire.CalculationExecutionStateFailed || c.StateChangeReason != "NameError: name 'x' is not defined" {
			t.Errorf("%s: %q", c.State, c.StateChangeReason)
		}
	})

	t.Run("the runner unreachable fails it", func(t *testing.T) {
		e, sid, r := readySession(t, nil)
		r.executeErr = io.ErrClosedPipe
		id, _ := e.mustSubmit(sid, "1")
		if c := e.calc(id); c.State != wire.CalculationExecutionStateFailed || !strings.Contains(c.StateChangeReason, "not reachable") {
			t.Errorf("%s: %q", c.State, c.StateChangeReason)
		}
	})

	t.Run("the driver dies: running and queued ones fail", func(t *testing.T) {
		e, sid, r := readySession(t, nil)
		a, _ := e.mustSubmit(sid, "a")
		b, _ := e.mustSubmit(sid, "b")
		r.exit("signal: killed", true)
		for _, id := range []string{a, b} {
			if c := e.calc(id); c.State != wire.CalculationExecutionStateFailed || !strings.Contains(c.StateChangeReason, "The session ended before the calculation finished: The Spark driver exited") {
				t.Errorf("%s: %s %q", id, c.State, c.StateChangeReason)
			}
		}
		_, _, err := e.submit(sid, "c")
		wantErr(t, err, CodeInvalidRequest, "FAILED state")
	})

	t.Run("terminate: the running one is canceled by the terminate", func(t *testing.T) {
		e, sid, r := readySession(t, nil)
		id, _ := e.mustSubmit(sid, "long")
		x := r.execution(t)
		// Told to stop, the runner interrupts its calculation, reports it done, then exits.
		r.mu.Lock()
		r.holdExit = true
		r.mu.Unlock()
		_, err := e.svc.TerminateSession(e.ctx, &wire.TerminateSessionRequest{SessionId: &sid})
		mustOK(t, err)
		eventually(t, "Terminate was called", r.wasTerminated)
		r.finish(t, x, "aborted", "KeyboardInterrupt", "")
		r.exit("exit code 0", false)
		if c := e.calc(id); c.State != wire.CalculationExecutionStateFailed || c.StateChangeReason != reasonCanceledByTerminate {
			t.Errorf("%s: %q", c.State, c.StateChangeReason)
		}
		if e.session(sid).State != wire.SessionStateTerminated {
			t.Errorf("session %s", e.session(sid).State)
		}
	})

	t.Run("a busy session does not time out; idle from the end of its last calculation", func(t *testing.T) {
		e, sid, r := readySession(t, nil)
		e.mustSubmit(sid, "long")
		x := r.execution(t)
		e.clock.Advance(time.Hour)
		e.svc.expireIdle(e.ctx)
		if r.wasTerminated() {
			t.Fatal("a BUSY session was terminated by the idle timeout")
		}
		r.finish(t, x, "ok", "", "")
		e.clock.Advance(19 * time.Minute)
		e.svc.expireIdle(e.ctx)
		if e.session(sid).State != wire.SessionStateIdle {
			t.Fatalf("session %s after 19 idle minutes", e.session(sid).State)
		}
		e.clock.Advance(time.Minute)
		e.svc.expireIdle(e.ctx)
		r.waitExited(t)
		if e.session(sid).State != wire.SessionStateTerminated {
			t.Errorf("session %s after 20 idle minutes", e.session(sid).State)
		}
	})
}

// The warm pool: a session takes a ready pooled runner and is IDLE at once; a refused bind,
// or properties Spark cannot set at run time, start cold; three failed warm starts in a row
// disable the pool.
func TestWarmPool(t *testing.T) {
	pooled := func(t *testing.T) (*rtEnv, *fakeRunner) {
		e := newRuntimeEnv(t, func(c *Config) { c.WarmPool = 1 })
		e.svc.StartPool()
		w := e.rt.next(t)
		if !strings.HasPrefix(w.spec.SessionID, "warm-") {
			t.Fatalf("pool runner %s", w.spec.SessionID)
		}
		w.ready()
		eventually(t, "the pooled runner is ready", func() bool { ready, _ := e.svc.PoolSize(); return ready == 1 })
		return e, w
	}

	t.Run("a session takes the ready runner", func(t *testing.T) {
		e, w := pooled(t)
		sid, state := e.startSession(map[string]string{"spark.sql.shuffle.partitions": "4"})
		if state != wire.SessionStateIdle {
			t.Errorf("StartSession answered %s", state)
		}
		if len(w.bindings) != 1 || w.bindings[0] != sid {
			t.Errorf("bindings %v", w.bindings)
		}
		refill := e.rt.next(t) // the pool refills
		if !strings.HasPrefix(refill.spec.SessionID, "warm-") {
			t.Errorf("refill %s", refill.spec.SessionID)
		}
		id, state := e.mustSubmit(sid, "1")
		if state != wire.CalculationExecutionStateRunning {
			t.Errorf("calculation %s", state)
		}
		w.finish(t, w.execution(t), "ok", "", "")
		if e.calc(id).State != wire.CalculationExecutionStateCompleted {
			t.Errorf("calculation %s", e.calc(id).State)
		}
	})

	t.Run("a refused bind starts cold", func(t *testing.T) {
		e, w := pooled(t)
		w.refuseBind = "Cannot modify the value of a static config"
		sid, state := e.startSession(nil)
		if state != wire.SessionStateCreating {
			t.Errorf("StartSession answered %s", state)
		}
		w.waitExited(t)
		var cold *fakeRunner
		for cold == nil {
			if r := e.rt.next(t); r.spec.SessionID == sid {
				cold = r
			}
		}
		cold.ready()
		if e.session(sid).State != wire.SessionStateIdle {
			t.Errorf("session %s", e.session(sid).State)
		}
	})

	t.Run("a static property starts cold", func(t *testing.T) {
		e, w := pooled(t)
		sid, state := e.startSession(map[string]string{"spark.executor.memory": "2g"})
		if state != wire.SessionStateCreating || len(w.bindings) != 0 {
			t.Errorf("StartSession answered %s, bindings %v", state, w.bindings)
		}
		if r := e.rt.next(t); r.spec.SessionID != sid || r.spec.SparkConf["spark.executor.memory"] != "2g" {
			t.Errorf("cold runner %s %v", r.spec.SessionID, r.spec.SparkConf["spark.executor.memory"])
		}
	})

	t.Run("three failed warm starts disable the pool", func(t *testing.T) {
		e := newRuntimeEnv(t, func(c *Config) { c.WarmPool = 1 })
		e.svc.StartPool()
		for range 3 {
			e.rt.next(t).exit("exit code 1", true) // each exit starts the next one
		}
		e.svc.Close(context.Background())
		e.rt.none(t)
		if _, total := e.svc.PoolSize(); total != 0 {
			t.Errorf("pool holds %d", total)
		}
	})
}

// Recover, after a restart: active sessions FAILED (their drivers are gone), TERMINATING
// ones TERMINATED, unfinished calculations FAILED; finished ones stay as they were.
func TestRestartRecovery(t *testing.T) {
	e := newRuntimeEnv(t, nil)
	start := t0.Add(-time.Hour)
	for _, s := range []*Session{
		{ID: "idle", State: wire.SessionStateIdle},
		{ID: "busy", State: wire.SessionStateBusy},
		{ID: "creating", State: wire.SessionStateCreating},
		{ID: "degraded", State: wire.SessionStateDegraded},
		{ID: "terminating", State: wire.SessionStateTerminating},
		{ID: "ended", State: wire.SessionStateTerminated, EndTime: start},
	} {
		s.WorkGroup, s.StartTime, s.DPUs = "spark", start, 2
		e.putSession(s)
	}
	for _, c := range []*Calculation{
		{ID: "running", SessionID: "busy", State: wire.CalculationExecutionStateRunning},
		{ID: "queued", SessionID: "busy", State: wire.CalculationExecutionStateQueued},
		{ID: "done", SessionID: "busy", State: wire.CalculationExecutionStateCompleted},
	} {
		mustOK(t, e.store.Update(e.ctx, func(tx Tx) error { return tx.PutCalculation(c) }))
	}
	mustOK(t, e.svc.Recover(e.ctx))
	for id, want := range map[string]string{
		"idle": wire.SessionStateFailed, "busy": wire.SessionStateFailed, "creating": wire.SessionStateFailed,
		"degraded": wire.SessionStateFailed, "terminating": wire.SessionStateTerminated, "ended": wire.SessionStateTerminated,
	} {
		s := e.session(id)
		if s.State != want {
			t.Errorf("%s: %s, want %s", id, s.State, want)
		}
		if id != "ended" && (!s.EndTime.Equal(t0) || s.DpuMillis != 2*time.Hour.Milliseconds()) {
			t.Errorf("%s: ended %v, DpuMillis %d", id, s.EndTime, s.DpuMillis)
		}
		if want == wire.SessionStateFailed && s.StateChangeReason != reasonRestarted {
			t.Errorf("%s: reason %q", id, s.StateChangeReason)
		}
	}
	for id, want := range map[string]string{"running": wire.CalculationExecutionStateFailed, "queued": wire.CalculationExecutionStateFailed, "done": wire.CalculationExecutionStateCompleted} {
		if c := e.calc(id); c.State != want {
			t.Errorf("calculation %s: %s, want %s", id, c.State, want)
		}
	}
	e.rt.none(t) // nothing is restarted
}

// A slow object store holds up neither the session nor the health checks: while the
// results upload, the session takes calculations, stops and pings, and the calculation
// stays RUNNING until all three objects are stored.
func TestResultUploadsOffTheSessionLock(t *testing.T) {
	e, sid, r := readySession(t, nil)
	id, _ := e.mustSubmit(sid, "a")
	x := r.execution(t)
	e.objs.holdPuts()
	finished := make(chan struct{})
	go func() { defer close(finished); r.finish(t, x, "ok", "", "") }() // the event goroutine
	for i := range 3 {
		uri := receive(t, e.objs.puts, "no upload started")
		// Meanwhile the session answers: a new calculation queues, a stop goes through,
		// the health check runs.
		if i == 0 {
			var state string
			var err error
			answered := make(chan struct{})
			go func() {
				defer close(answered)
				var next string
				if next, state, err = e.submit(sid, "b"); err == nil {
					_, err = e.svc.StopCalculationExecution(e.ctx, &wire.StopCalculationExecutionRequest{CalculationExecutionId: &next})
				}
				e.svc.checkHealth(e.ctx)
			}()
			select {
			case <-answered:
			case <-time.After(5 * time.Second):
				go func() { // let the uploads through, so the test can end
					for {
						select {
						case <-e.objs.puts:
						case e.objs.release <- struct{}{}:
						}
					}
				}()
				t.Fatal("the session waited for the upload")
			}
			if err != nil || state != wire.CalculationExecutionStateQueued {
				t.Errorf("submitted during the upload: %s, %v", state, err)
			}
		}
		if c := e.calc(id); c.State != wire.CalculationExecutionStateRunning || c.ResultURI != "" {
			t.Errorf("while %s uploads: %s, result %q", uri, c.State, c.ResultURI)
		}
		e.objs.release <- struct{}{}
	}
	<-finished
	if c := e.calc(id); c.State != wire.CalculationExecutionStateCompleted || c.ResultURI == "" {
		t.Errorf("after the upload: %s, result %q", c.State, c.ResultURI)
	}
	if e.session(sid).State != wire.SessionStateIdle {
		t.Errorf("session %s", e.session(sid).State)
	}
}

// A session's scratch directory, and that of the pooled runner it took, go when it ends;
// so does a pooled runner's when it ends in the pool. Of a failed one, runner.log stays.
func TestScratchRemovedWithTheRunner(t *testing.T) {
	exists := func(dir string) bool { _, err := os.Stat(dir); return err == nil }
	mkdir := func(dir string) { // as the runtime does
		mustOK(t, os.MkdirAll(filepath.Join(dir, "tmp"), 0o700))
		mustOK(t, os.WriteFile(filepath.Join(dir, "runner.log"), []byte("log\n"), 0o600))
	}
	onlyLog := func(dir string) bool {
		entries, err := os.ReadDir(dir)
		return err == nil && len(entries) == 1 && entries[0].Name() == "runner.log"
	}

	t.Run("a cold session", func(t *testing.T) {
		e, sid, r := readySession(t, nil)
		mkdir(r.spec.ScratchDir)
		e.mustSubmit(sid, "1")
		x := r.execution(t)
		r.finish(t, x, "ok", "", "")
		if !exists(r.spec.ScratchDir) || exists(x.dir) {
			t.Fatalf("after a calculation: scratch %v, its files %v", exists(r.spec.ScratchDir), exists(x.dir))
		}
		r.exit("signal: killed", true)
		if !onlyLog(r.spec.ScratchDir) {
			t.Errorf("%s holds more than runner.log after the session failed", r.spec.ScratchDir)
		}
	})

	t.Run("a terminated session", func(t *testing.T) {
		e, sid, r := readySession(t, nil)
		mkdir(r.spec.ScratchDir)
		_, err := e.svc.TerminateSession(e.ctx, &wire.TerminateSessionRequest{SessionId: &sid})
		mustOK(t, err)
		r.waitExited(t)
		if exists(r.spec.ScratchDir) {
			t.Errorf("%s is left after the session was terminated", r.spec.ScratchDir)
		}
	})

	t.Run("a session on a pooled runner, and the pool", func(t *testing.T) {
		e := newRuntimeEnv(t, func(c *Config) { c.WarmPool = 1 })
		e.svc.StartPool()
		w := e.rt.next(t)
		mkdir(w.spec.ScratchDir)
		w.ready()
		eventually(t, "the pooled runner is ready", func() bool { ready, _ := e.svc.PoolSize(); return ready == 1 })
		sid, _ := e.startSession(nil)
		refill := e.rt.next(t)
		mkdir(refill.spec.ScratchDir)
		e.mustSubmit(sid, "1")
		session := filepath.Join(e.svc.cfg.ScratchDir, "sessions", sid)
		if !exists(session) {
			t.Fatalf("no %s", session)
		}
		_, err := e.svc.TerminateSession(e.ctx, &wire.TerminateSessionRequest{SessionId: &sid})
		mustOK(t, err)
		w.waitExited(t)
		if exists(session) || exists(w.spec.ScratchDir) {
			t.Errorf("left after the session ended: %s %v, %s %v", session, exists(session), w.spec.ScratchDir, exists(w.spec.ScratchDir))
		}
		refill.exit("exit code 1", true) // dies in the pool
		if !onlyLog(refill.spec.ScratchDir) {
			t.Errorf("%s holds more than runner.log after the pooled runner died", refill.spec.ScratchDir)
		}
	})
}

// DeleteWorkGroup takes its ended sessions with it: their records, calculations and tags;
// another workgroup's stay.
func TestDeleteWorkGroupRemovesEndedSessions(t *testing.T) {
	e, sid, r := readySession(t, nil)
	calc, _ := e.mustSubmit(sid, "1")
	r.finish(t, r.execution(t), "ok", "", "")
	arn := e.svc.sessionARN("spark", sid)
	mustOK(t, e.store.Update(e.ctx, func(tx Tx) error { return tx.PutTags(arn, []wire.Tag{tag("k", "v")}) }))
	_, err := e.svc.TerminateSession(e.ctx, &wire.TerminateSessionRequest{SessionId: &sid})
	mustOK(t, err)
	r.waitExited(t)
	e.createWorkGroup("other", sparkConfig())
	e.putSession(&Session{ID: "elsewhere", WorkGroup: "other", State: wire.SessionStateTerminated})

	_, err = e.svc.DeleteWorkGroup(e.ctx, &wire.DeleteWorkGroupInput{WorkGroup: refOf("spark")})
	mustOK(t, err)
	mustOK(t, e.store.View(e.ctx, func(tx Tx) error {
		if _, err := tx.GetSession(sid); !errors.Is(err, ErrNotFound) {
			t.Errorf("session: %v", err)
		}
		if _, err := tx.GetCalculation(calc); !errors.Is(err, ErrNotFound) {
			t.Errorf("calculation: %v", err)
		}
		if tags, err := tx.GetTags(arn); err != nil || len(tags) != 0 {
			t.Errorf("tags %v, %v", tags, err)
		}
		_, err := tx.GetSession("elsewhere")
		return err
	}))
}
