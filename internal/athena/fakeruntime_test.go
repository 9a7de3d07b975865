package athena

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"glaux/internal/wire"
)

// fakeRuntime stands in for internal/runtime so the session, calculation and warm-pool
// state machines run in milliseconds without Python or Spark. A fake runner reports
// nothing by itself: the test drives its events (ready, done, exited, ...) from its own
// goroutine, as the real runtime does from the runner's event goroutine, so every
// interleaving a test checks is the one it wrote. Terminate reports exited, as the real one
// does once the process is gone.
type fakeRuntime struct {
	mu       sync.Mutex
	runners  []*fakeRunner
	startErr error            // the next Start fails with it
	started  chan *fakeRunner // every runner started, in order
	clock    *fakeClock
}

func newFakeRuntime(clock *fakeClock) *fakeRuntime {
	return &fakeRuntime{started: make(chan *fakeRunner, 64), clock: clock}
}

func (rt *fakeRuntime) Start(_ context.Context, spec RunnerSpec, sink func(RunnerEvent)) (Runner, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if err := rt.startErr; err != nil {
		rt.startErr = nil
		return nil, err
	}
	r := &fakeRunner{rt: rt, spec: spec, sink: sink, pid: 1000 + len(rt.runners), heard: rt.clock.Now(),
		executed: make(chan fakeExecution, 64), exited: make(chan struct{})}
	rt.runners = append(rt.runners, r)
	rt.started <- r
	return r, nil
}

// next is the next runner started (by a session or the pool).
func (rt *fakeRuntime) next(t *testing.T) *fakeRunner {
	t.Helper()
	return receive(t, rt.started, "no runner was started")
}

// receive is the next value on ch; the test fails with what after 5 s without one.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal(what)
		var zero T
		return zero
	}
}

// none checks that no further runner was started.
func (rt *fakeRuntime) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-rt.started:
		t.Fatalf("a runner was started for %s", r.spec.SessionID)
	default:
	}
}

type fakeExecution struct{ id, code, dir string }

type fakeRunner struct {
	rt   *fakeRuntime
	spec RunnerSpec
	sink func(RunnerEvent)
	pid  int

	mu         sync.Mutex
	heard      time.Time
	interrupts int
	pings      int
	bindings   []string // session ids bound to
	refuseBind string   // the reason a Bind is refused with ("" accepts)
	// connectPortOnBind is the Spark Connect port a Bind reports (0: none).
	connectPortOnBind int
	executeErr        error
	// executorsErr makes Executors fail (a driver whose REST API does not answer in time).
	executorsErr error
	terminated   bool
	holdExit     bool // Terminate leaves reporting exited to the test
	exitOnce     sync.Once
	executed     chan fakeExecution
	exited       chan struct{} // closed once exited was reported
}

func (r *fakeRunner) Execute(id, code, dir string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.executeErr != nil {
		return r.executeErr
	}
	r.executed <- fakeExecution{id, code, dir}
	return nil
}

func (r *fakeRunner) Interrupt() error { r.count(&r.interrupts); return nil }
func (r *fakeRunner) Ping() error      { r.count(&r.pings); return nil }

func (r *fakeRunner) count(n *int) {
	r.mu.Lock()
	*n++
	r.mu.Unlock()
}

func (r *fakeRunner) interruptCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.interrupts
}

func (r *fakeRunner) Terminate(context.Context) error {
	r.mu.Lock()
	r.terminated = true
	hold := r.holdExit
	r.mu.Unlock()
	if !hold {
		r.exit("terminated", false)
	}
	return nil
}

func (r *fakeRunner) Executors(context.Context) ([]ExecutorInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.executorsErr != nil {
		return nil, r.executorsErr
	}
	return []ExecutorInfo{
		{ID: "driver", IsDriver: true, Active: true, Cores: 1, MemoryMB: 1024},
		{ID: "1", Active: true, Cores: 1, MemoryMB: 1024},
	}, nil
}

// Bind answers like the runner's command thread: later, from the event goroutine.
func (r *fakeRunner) Bind(sessionID, _, _ string, _ map[string]string) error {
	r.mu.Lock()
	r.bindings = append(r.bindings, sessionID)
	reason, port := r.refuseBind, r.connectPortOnBind
	r.mu.Unlock()
	go r.sink(RunnerEvent{Type: EventBound, Reason: reason, ConnectPort: port})
	return nil
}

func (r *fakeRunner) LastHeard() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.heard
}

func (r *fakeRunner) Pid() int { return r.pid }

func (r *fakeRunner) wasTerminated() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.terminated
}

// hear is the runner saying something now (by the fake clock).
func (r *fakeRunner) hear() {
	r.mu.Lock()
	r.heard = r.rt.clock.Now()
	r.mu.Unlock()
}

func (r *fakeRunner) emit(ev RunnerEvent) {
	r.hear()
	r.sink(ev)
}

func (r *fakeRunner) ready() {
	r.emit(RunnerEvent{Type: EventReady, SparkVersion: "4.0.1", AppID: "local-1"})
}

// execution is the next calculation the service handed to the runner.
func (r *fakeRunner) execution(t *testing.T) fakeExecution {
	t.Helper()
	return receive(t, r.executed, "the runner was given no calculation")
}

// idle checks that the runner was given no further calculation.
func (r *fakeRunner) idle(t *testing.T) {
	t.Helper()
	select {
	case x := <-r.executed:
		t.Fatalf("the runner was given calculation %s", x.id)
	default:
	}
}

// finish writes the three files as the runner does, then reports done.
func (r *fakeRunner) finish(t *testing.T, x fakeExecution, status, ename, evalue string) {
	t.Helper()
	for name, body := range map[string]string{"stdout.txt": "out of " + x.code + "\n", "stderr.txt": "", "result.json": `{"version":1,"status":"` + status + `","outputs":[]}`} {
		if err := os.WriteFile(filepath.Join(x.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r.emit(RunnerEvent{Type: EventStarted, CalculationID: x.id})
	r.emit(RunnerEvent{Type: EventDone, CalculationID: x.id, Status: status, EName: ename, EValue: evalue})
}

// exit reports the runner's end (once).
func (r *fakeRunner) exit(reason string, unexpected bool) {
	r.exitOnce.Do(func() {
		r.sink(RunnerEvent{Type: EventExited, Reason: reason, Unexpected: unexpected})
		close(r.exited)
	})
}

func (r *fakeRunner) waitExited(t *testing.T) {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the runner was not stopped")
	}
}

// rtEnv is a testEnv whose Service has the fake runtime and a scratch directory.
type rtEnv struct {
	*testEnv
	rt   *fakeRuntime
	objs *slowObjects
}

// slowObjects is the in-memory object store, made to hold each Put when hold is set until
// the test lets it through (a slow S3).
type slowObjects struct {
	*memObjects
	mu      sync.Mutex
	hold    bool
	puts    chan string   // each held Put's URI, as it starts
	release chan struct{} // one send lets one held Put finish
}

func (o *slowObjects) Put(ctx context.Context, uri string, r io.Reader) error {
	o.mu.Lock()
	hold := o.hold
	o.mu.Unlock()
	if hold {
		o.puts <- uri
		<-o.release
	}
	return o.memObjects.Put(ctx, uri, r)
}

func (o *slowObjects) holdPuts() {
	o.mu.Lock()
	o.hold = true
	o.mu.Unlock()
}

func newRuntimeEnv(t *testing.T, cfg func(*Config)) *rtEnv {
	t.Helper()
	e := &testEnv{t: t, ctx: context.Background(), store: newMemStore(), objs: newMemObjects(), clock: &fakeClock{t: t0}, ids: &seqIDs{}}
	rt := newFakeRuntime(e.clock)
	objs := &slowObjects{memObjects: e.objs, puts: make(chan string, 8), release: make(chan struct{})}
	c := Config{
		Region: testRegion, AccountID: testAccount, DefaultOutputLocation: "s3://glaux-results/",
		DPUSizes: []int32{1}, NotebookVersion: "Athena notebook version 1",
		CoresPerDPU: 1, MemoryMBPerDPU: 1024, QueueDepth: 2, ScratchDir: t.TempDir(),
	}
	if cfg != nil {
		cfg(&c)
	}
	e.svc = NewService(c, Deps{Store: e.store, Objects: objs, Runtime: rt, Now: e.clock.Now, NewID: e.ids.Next,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mustOK(t, e.svc.EnsurePrimary(e.ctx))
	e.createWorkGroup("spark", sparkConfig())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.svc.Close(ctx)
	})
	return &rtEnv{testEnv: e, rt: rt, objs: objs}
}

func (e *rtEnv) startSession(props map[string]string) (string, string) {
	e.t.Helper()
	out, err := e.svc.StartSession(e.ctx, valid(e.t, &wire.StartSessionRequest{
		WorkGroup:           refOf("spark"),
		EngineConfiguration: &wire.EngineConfiguration{MaxConcurrentDpus: refOf(int32(4)), SparkProperties: props},
	}))
	mustOK(e.t, err)
	return *out.SessionId, *out.State
}

func (e *rtEnv) session(id string) *Session {
	e.t.Helper()
	sess, err := e.svc.getSession(e.ctx, id)
	mustOK(e.t, err)
	return sess
}

func (e *rtEnv) calc(id string) *Calculation {
	e.t.Helper()
	c, err := e.svc.getCalculation(e.ctx, id)
	mustOK(e.t, err)
	return c
}

func (e *rtEnv) submit(sid, code string) (string, string, error) {
	out, err := e.svc.StartCalculationExecution(e.ctx, &wire.StartCalculationExecutionRequest{SessionId: &sid, CodeBlock: &code})
	if err != nil {
		return "", "", err
	}
	return *out.CalculationExecutionId, *out.State, nil
}

func (e *rtEnv) mustSubmit(sid, code string) (string, string) {
	e.t.Helper()
	id, state, err := e.submit(sid, code)
	mustOK(e.t, err)
	return id, state
}

// eventually waits for what a background goroutine of the service does.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 5 s: %s", what)
		}
	}
}

var errNoJava = errors.New("java: not found")
