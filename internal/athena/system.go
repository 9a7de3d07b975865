// The system session: one glaux-internal PySpark driver on the shared table catalog, started
// on first use, that answers Glue catalog operations and runs Athena SQL statements
// (docs/dbt.md). It is no Athena session: it is not listed, has no workgroup and no DPU
// accounting, and it runs one piece of code at a time.
package athena

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// systemSessionID names the system session's runner (logs, Spark app name, scratch dir).
const systemSessionID = "glaux-system"

// SystemError is the exception a piece of system-session code raised: its Python type
// (AnalysisException, ...) and message.
type SystemError struct {
	EName, EValue string
}

func (e *SystemError) Error() string { return exceptionReason(e.EName, e.EValue) }

// systemSession owns the system runner. mu serialises starts and executions.
type systemSession struct {
	mu     sync.Mutex
	runner Runner
	events chan RunnerEvent // of the current runner
	seq    int
	closed bool

	quitOnce, closeOnce sync.Once
	quit                chan struct{} // closed by closeSystem: a running piece of code is abandoned
}

func (ss *systemSession) quitCh() chan struct{} {
	ss.quitOnce.Do(func() { ss.quit = make(chan struct{}) })
	return ss.quit
}

// systemTimeout bounds one piece of system code (a statement, a catalog lookup) after Spark is up.
const systemTimeout = 10 * time.Minute

// ErrNoSharedCatalog answers catalog and SQL calls when sessions have no shared catalog
// (--catalog memory, or --runner-user): the system session's own would answer for nobody.
var ErrNoSharedCatalog = &Error{Code: CodeInvalidRequest, AthenaErrorCode: ErrCodeInvalidInput,
	Message: "glaux runs without a shared table catalog (--catalog memory, or --runner-user): there is no catalog for Glue or Athena SQL to use (docs/catalog.md)"}

// SharedCatalog reports whether sessions share a table catalog (a Hive metastore).
func (s *Service) SharedCatalog() bool {
	return s.cfg.SparkDefaults["spark.sql.catalogImplementation"] == "hive"
}

// RunSystem runs Python code in the system session (starting it if needed) and returns what
// the code printed. An exception in the code is a *SystemError; a runner that cannot start
// or dies is an internal error.
func (s *Service) RunSystem(ctx context.Context, code string) ([]byte, error) {
	return s.runSystem(ctx, code, nil)
}

// runSystem is RunSystem; started, when not nil, is called once the code has its turn.
func (s *Service) runSystem(ctx context.Context, code string, started func()) ([]byte, error) {
	if !s.SharedCatalog() {
		return nil, ErrNoSharedCatalog
	}
	ss := &s.sys
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err // given up while waiting its turn
	}
	if ss.closed {
		return nil, &Error{Code: CodeInternal, Message: "glaux is shutting down"}
	}
	if ss.runner == nil {
		if err := s.startSystem(); err != nil {
			return nil, err
		}
	}
	if started != nil {
		started()
	}
	ss.seq++
	id := fmt.Sprintf("system-%d", ss.seq)
	dir := filepath.Join(s.systemScratch(), "calcs", id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := ss.runner.Execute(id, code, dir); err != nil {
		s.stopSystemLocked()
		return nil, fmt.Errorf("the system session is not reachable: %w", err)
	}
	timer := time.NewTimer(systemTimeout)
	defer timer.Stop()
	interrupted := false
	for {
		select {
		case ev := <-ss.events:
			switch {
			case ev.Type == EventExited:
				ss.runner, ss.events = nil, nil
				return nil, fmt.Errorf("the system session's Spark driver exited: %s", ev.Reason)
			case ev.Type == EventDone && ev.CalculationID == id:
				if ev.Status != "ok" {
					return nil, &SystemError{EName: ev.EName, EValue: ev.EValue}
				}
				return os.ReadFile(filepath.Join(dir, StdoutFile))
			}
		case <-ctx.Done():
			if !interrupted { // the statement stops; its done event is still awaited
				interrupted = true
				ss.runner.Interrupt()
				timer.Reset(30 * time.Second)
			}
		case <-ss.quitCh():
			s.stopSystemLocked()
			return nil, &Error{Code: CodeInternal, Message: "glaux is shutting down"}
		case <-timer.C:
			s.stopSystemLocked()
			return nil, fmt.Errorf("the system session did not finish within %s", systemTimeout)
		}
	}
}

// RunSystemJSON runs code that prints one JSON document and decodes it into out.
func (s *Service) RunSystemJSON(ctx context.Context, code string, out any) error {
	return s.runSystemJSON(ctx, code, out, nil)
}

func (s *Service) runSystemJSON(ctx context.Context, code string, out any, started func()) error {
	b, err := s.runSystem(ctx, code, started)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the system session printed no JSON document (%v): %.200q", err, b)
	}
	return nil
}

func (s *Service) systemScratch() string { return filepath.Join(s.cfg.ScratchDir, "system") }

// startSystem starts the system runner and waits until Spark is up (bounded by the
// runtime's start timeout), also when the request that wanted it gives up: a client that
// retries finds it ready. Called with sys.mu held.
func (s *Service) startSystem() error {
	ss := &s.sys
	scratch := s.systemScratch()
	os.RemoveAll(scratch) // a previous glaux's
	conf := s.baseSparkConf(&Session{ID: systemSessionID}, scratch)
	conf["spark.app.name"] = systemSessionID
	conf["spark.ui.enabled"] = "false"
	spec := RunnerSpec{SessionID: systemSessionID, EngineVersion: sparkEngineVersion, SparkConf: conf, ScratchDir: scratch, Env: localSparkEnv(conf)}
	events := make(chan RunnerEvent, 64)
	r, err := s.runtime.Start(context.Background(), spec, func(ev RunnerEvent) {
		if ev.Type == EventProgress || ev.Type == EventStarted {
			return // nobody needs them; a full channel must not stall the runner
		}
		events <- ev
	})
	if err != nil {
		return fmt.Errorf("the system session could not be started: %w", err)
	}
	s.log.Info("system session starting", "pid", r.Pid())
	for {
		select {
		case ev := <-events:
			switch ev.Type {
			case EventReady:
				ss.runner, ss.events = r, events
				s.log.Info("system session ready", "spark_version", ev.SparkVersion)
				return nil
			case EventExited:
				return fmt.Errorf("the system session's Spark driver could not be started: %s", ev.Reason)
			}
		case <-ss.quitCh():
			tctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			r.Terminate(tctx)
			cancel()
			return &Error{Code: CodeInternal, Message: "glaux is shutting down"}
		}
	}
}

// stopSystemLocked ends the system runner (the next call starts a new one).
func (s *Service) stopSystemLocked() {
	ss := &s.sys
	if ss.runner == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ss.runner.Terminate(ctx); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("stopping the system session", "err", err)
	}
	ss.runner, ss.events = nil, nil
	os.RemoveAll(s.systemScratch())
}

// closeSystem stops the system session for good (Close).
func (s *Service) closeSystem() {
	quit := s.sys.quitCh()
	s.sys.closeOnce.Do(func() { close(quit) })
	s.sys.mu.Lock()
	defer s.sys.mu.Unlock()
	s.sys.closed = true
	s.stopSystemLocked()
}
