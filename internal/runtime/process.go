package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"glaux/internal/athena"
)

const (
	// executeWriteTimeout bounds a blocked command pipe: glaux sends only to an idle runner,
	// so a runner that reads nothing for this long is stuck.
	executeWriteTimeout = 30 * time.Second
)

// runner is one live runner process; it implements athena.Runner.
type runner struct {
	lastHeard atomic.Int64 // unix nanos of the runner's last message (health checks)
	cfg       Config
	log       *slog.Logger
	sink      func(athena.RunnerEvent)
	cmd       *exec.Cmd
	pid       int
	iso       *identity // the runner's own ids with --runner-user, else nil (user.go)
	logPath   string
	fake      bool
	http      *http.Client

	writeMu sync.Mutex // one command line at a time on fd 3
	cmdW    *os.File   // fd 3 of the runner, our end
	evR     *os.File   // fd 4 of the runner, our end

	startTimer *time.Timer

	mu          sync.Mutex
	ready       *readyInfo
	failure     string // "<ename>: <evalue>" of a failed message
	timedOut    string // set when Spark missed StartTimeout
	terminating bool
	reaped      bool

	eof       chan struct{} // closed when the event reader has stopped reading
	exited    chan struct{} // closed once the process is reaped and exitEvent is set
	exitEvent athena.RunnerEvent
}

type readyInfo struct {
	appID, uiURL string
	at           time.Time
}

var _ athena.Runner = (*runner)(nil)

func start(cfg Config, spec athena.RunnerSpec, sink func(athena.RunnerEvent), log *slog.Logger) (*runner, error) {
	// Private: user code, results and Spark's temp files of one session live here.
	if err := os.MkdirAll(filepath.Join(spec.ScratchDir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("runtime: scratch dir: %w", err)
	}
	if err := os.Chmod(spec.ScratchDir, 0o700); err != nil {
		return nil, fmt.Errorf("runtime: scratch dir: %w", err)
	}
	iso, err := cfg.User.acquire(&spec, log)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			iso.release()
		}
	}()
	env, err := runnerEnv(cfg, spec)
	if err != nil {
		return nil, fmt.Errorf("runtime: runner env: %w", err)
	}
	logPath := filepath.Join(spec.ScratchDir, "runner.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("runtime: runner log: %w", err)
	}
	defer logFile.Close()
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("runtime: command pipe: %w", err)
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		return nil, fmt.Errorf("runtime: event pipe: %w", err)
	}

	cmd := exec.Command(cfg.Python, "-m", "glaux_runner")
	cmd.Dir = spec.ScratchDir // Spark's spark-warehouse/metastore_db defaults land here, not in glaux's cwd
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{cmdR, evW} // fd 3, fd 4
	cmd.SysProcAttr = sysProcAttr()
	iso.apply(cmd)
	err = cmd.Start()
	// The child holds its own copies; ours would hide EOF from both sides.
	cmdR.Close()
	evW.Close()
	if err != nil {
		cmdW.Close()
		evR.Close()
		return nil, fmt.Errorf("runtime: start runner: %w", err)
	}

	started = true
	r := &runner{
		cfg: cfg, log: log, sink: sink, cmd: cmd, pid: cmd.Process.Pid, iso: iso, logPath: logPath,
		fake: fakeSpark(env), http: &http.Client{Timeout: executorsTimeout},
		cmdW: cmdW, evR: evR,
		eof: make(chan struct{}), exited: make(chan struct{}),
	}
	r.startTimer = time.AfterFunc(cfg.StartTimeout, r.startTimedOut)
	log.Info("runner started", "pid", r.pid, "scratch", spec.ScratchDir, "fake_spark", r.fake)
	go r.wait()
	go r.readEvents()
	return r, nil
}

func (r *runner) Pid() int { return r.pid }

func (r *runner) errGone() error { return fmt.Errorf("runtime: runner %d has exited", r.pid) }

// Execute sends one calculation to the runner, creating its output dir first.
func (r *runner) Execute(calculationID, code, dir string) error {
	if calculationID == "" || dir == "" {
		return errors.New("runtime: execute needs a calculation id and a dir")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("runtime: calculation dir: %w", err)
	}
	if err := r.iso.prepareCalc(dir); err != nil {
		return err
	}
	err := r.send(command{Type: "execute", ID: calculationID, Code: code, Dir: dir}, executeWriteTimeout)
	if err != nil {
		return err
	}
	r.log.Debug("calculation sent", "calculation", calculationID)
	return nil
}

// Ping asks the runner to answer "pong" from its command thread (a health check).
func (r *runner) Ping() error { return r.send(command{Type: "ping"}, executeWriteTimeout) }

// LastHeard is when the runner last wrote anything on its event pipe.
func (r *runner) LastHeard() time.Time { return time.Unix(0, r.lastHeard.Load()) }

// Bind hands a warm runner to a session; the runner answers with EventBound.
func (r *runner) Bind(sessionID, workGroup, engineVersion string, conf map[string]string) error {
	return r.send(command{Type: "bind", SessionID: sessionID, WorkGroup: workGroup, EngineVersion: engineVersion, Conf: conf}, executeWriteTimeout)
}

// send writes one command line. A write that fails part-way leaves a torn line on fd 3,
// so the pipe is closed then: the runner sees EOF rather than garbage.
func (r *runner) send(c command, timeout time.Duration) error {
	line, err := encodeCommand(c)
	if err != nil {
		return err
	}
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	select {
	case <-r.exited:
		return r.errGone()
	default:
	}
	if err := r.cmdW.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("runtime: command pipe: %w", err)
	}
	if _, err := r.cmdW.Write(line); err != nil {
		r.cmdW.Close()
		if errors.Is(err, os.ErrClosed) || errors.Is(err, syscall.EPIPE) {
			return r.errGone()
		}
		return fmt.Errorf("runtime: runner %d does not read commands: %w", r.pid, err)
	}
	return nil
}

// Interrupt signals the runner alone: the JVM ignores SIGINT, the runner cancels the job group.
func (r *runner) Interrupt() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reaped {
		return r.errGone()
	}
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return fmt.Errorf("runtime: interrupt runner %d: %w", r.pid, err)
	}
	return nil
}

// Terminate asks for a clean shutdown, then escalates to SIGTERM and SIGKILL on the whole
// group; it returns once the runner is reaped. ctx ending skips straight to SIGKILL.
func (r *runner) Terminate(ctx context.Context) error {
	r.mu.Lock()
	r.terminating = true
	r.mu.Unlock()
	if r.waitExited(ctx, 0) {
		return nil
	}
	r.log.Info("terminating runner", "pid", r.pid)
	// Fire and forget: a stuck pipe must not delay the escalation, and killing unblocks it.
	go r.send(command{Type: "shutdown"}, r.cfg.TerminateGrace)
	if r.waitExited(ctx, r.cfg.TerminateGrace) {
		return nil
	}
	if ctx.Err() == nil {
		r.log.Warn("runner ignored shutdown, sending SIGTERM", "pid", r.pid)
		r.signalGroup(syscall.SIGTERM)
		if r.waitExited(ctx, killGrace) {
			return nil
		}
	}
	r.log.Warn("killing runner", "pid", r.pid)
	r.signalGroup(syscall.SIGKILL)
	<-r.exited
	return nil
}

// waitExited reports whether the runner is reaped within d (d == 0: right now).
func (r *runner) waitExited(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-r.exited:
			return true
		default:
			return false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.exited:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// signalGroup signals the runner's process group. The runner leads it (Setpgid), and its
// pid cannot be reused until it is reaped, which r.mu keeps from happening meanwhile.
func (r *runner) signalGroup(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reaped {
		return
	}
	if err := syscall.Kill(-r.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		r.log.Warn("signal runner group", "pid", r.pid, "signal", sig.String(), "err", err)
	}
}

func (r *runner) startTimedOut() {
	r.mu.Lock()
	if r.ready != nil || r.reaped || r.terminating {
		r.mu.Unlock()
		return
	}
	r.timedOut = fmt.Sprintf("Spark did not become ready within %s", r.cfg.StartTimeout)
	r.mu.Unlock()
	r.log.Error("runner start timed out, killing it", "pid", r.pid, "timeout", r.cfg.StartTimeout)
	r.signalGroup(syscall.SIGKILL)
}

// wait reaps the runner, kills whatever it left in its group, and bounds how long events
// may still be read after it died.
func (r *runner) wait() {
	noReap := waitNoReap(r.pid) == nil
	if noReap {
		// The session is over: no JVM or Python worker may outlive its runner.
		r.signalGroup(syscall.SIGKILL)
	}
	err := r.cmd.Wait()
	r.startTimer.Stop()
	r.mu.Lock()
	r.reaped = true
	r.exitEvent = athena.RunnerEvent{
		Type:       athena.EventExited,
		Reason:     r.exitReasonLocked(err),
		Unexpected: !r.terminating,
	}
	r.mu.Unlock()
	if !noReap {
		// Without WNOWAIT the group id is only known free of strangers up to here; the
		// window before this kill is too short for pid reuse in practice.
		_ = syscall.Kill(-r.pid, syscall.SIGKILL)
	}
	r.iso.release() // after the group kill: what is left of the runner's uid dies here
	r.cmdW.Close()  // unblocks a writer stuck on a full pipe
	close(r.exited)
	r.log.Info("runner exited", "pid", r.pid, "reason", r.exitEvent.Reason, "unexpected", r.exitEvent.Unexpected)

	t := time.NewTimer(drainGrace)
	defer t.Stop()
	select {
	case <-r.eof:
	case <-t.C:
		// Someone else still holds fd 4 open; stop reading so EventExited can go out.
		r.evR.Close()
	}
}
