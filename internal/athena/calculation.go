package athena

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"glaux/internal/wire"
)

// ResultType is the media type of a calculation's result document.
const ResultType = "application/vnd.aws.athena.v1+json"

const progressQueued = "Queued"

var unfinishedCalculationStates = []string{
	wire.CalculationExecutionStateCreating, wire.CalculationExecutionStateCreated, wire.CalculationExecutionStateQueued,
	wire.CalculationExecutionStateRunning, wire.CalculationExecutionStateCanceling,
}

func isFinalCalculation(state string) bool {
	return state == wire.CalculationExecutionStateCompleted || state == wire.CalculationExecutionStateFailed || state == wire.CalculationExecutionStateCanceled
}

// busyMessage is Athena's own wording, which clients (dbt-athena) match on.
const busyMessage = "Session is in the BUSY state; needs to be IDLE to accept Calculations."

// StartCalculationExecution submits code to a session. Unlike Athena, a busy session queues
// it (state QUEUED) up to the configured depth instead of refusing it.
func (s *Service) StartCalculationExecution(ctx context.Context, in *wire.StartCalculationExecutionRequest) (*wire.StartCalculationExecutionResponse, error) {
	code, err := codeBlock(in)
	if err != nil {
		return nil, err
	}
	params := *in
	params.ClientRequestToken = nil
	ls := s.liveSession(*in.SessionId)
	if ls != nil {
		// Hold the session while the calculation is admitted, so queue order is submission order.
		ls.mu.Lock()
		defer ls.mu.Unlock()
	}
	var calc *Calculation
	var existing string
	err = s.store.Update(ctx, func(tx Tx) error {
		id, hash, err := checkToken(tx, "StartCalculationExecution", in.ClientRequestToken, params)
		if err != nil || id != "" {
			existing = id
			return err
		}
		sess, err := tx.GetSession(*in.SessionId)
		if errors.Is(err, ErrNotFound) {
			return &Error{Code: CodeInvalidRequest, AthenaErrorCode: ErrCodeResourceNotFound, Message: fmt.Sprintf("Session %s is not found.", *in.SessionId)}
		} else if err != nil {
			return err
		}
		if isConnectEngine(sess.EngineVersion) {
			return errNoCalculations(sess)
		}
		switch {
		case ls == nil || ls.terminating || !isActiveSession(sess.State):
			return invalidState("Session %s is in the %s state; needs to be IDLE to accept Calculations.", sess.ID, sess.State)
		case sess.State == wire.SessionStateDegraded:
			return invalidState("Session %s is in the DEGRADED state; needs to be IDLE to accept Calculations.", sess.ID)
		case ls.running != "" && len(ls.queue) >= s.cfg.QueueDepth:
			return invalidState(busyMessage)
		case ls.running == "" && len(ls.queue) > s.cfg.QueueDepth:
			// Spark is not up yet: the first waiting calculation will run, the others queue behind it.
			return invalidState("Session %s is in the %s state and already has %d calculations waiting.", sess.ID, sess.State, len(ls.queue))
		}
		now := s.now()
		calc = &Calculation{
			ID: s.newID(), SessionID: sess.ID, Description: deref(in.Description), Code: code,
			State: wire.CalculationExecutionStateQueued, SubmissionTime: now, Progress: progressQueued,
		}
		calc.WorkingDirectory = sess.WorkingDirectory + calc.ID + "/"
		if err := tx.PutCalculation(calc); err != nil {
			return err
		}
		return s.rememberToken(tx, "StartCalculationExecution", in.ClientRequestToken, hash, calc.ID)
	})
	if err != nil {
		return nil, err
	}
	if existing != "" {
		c, err := s.getCalculation(ctx, existing)
		if err != nil {
			return nil, err
		}
		return &wire.StartCalculationExecutionResponse{CalculationExecutionId: &c.ID, State: &c.State}, nil
	}
	ls.queue = append(ls.queue, calc.ID)
	s.dispatch(ctx, ls)
	st := calc.State
	if ls.running == calc.ID {
		st = wire.CalculationExecutionStateRunning
	}
	return &wire.StartCalculationExecutionResponse{CalculationExecutionId: &calc.ID, State: &st}, nil
}

func codeBlock(in *wire.StartCalculationExecutionRequest) (string, error) {
	var fromConfig *string
	if in.CalculationConfiguration != nil {
		fromConfig = in.CalculationConfiguration.CodeBlock
	}
	switch {
	case in.CodeBlock != nil && fromConfig != nil:
		return "", invalid("Specify either CodeBlock or CalculationConfiguration.CodeBlock, not both.")
	case in.CodeBlock != nil:
		return *in.CodeBlock, nil
	case fromConfig != nil:
		return *fromConfig, nil
	}
	return "", invalid("CodeBlock is required: specify CodeBlock (or the deprecated CalculationConfiguration.CodeBlock).")
}

// dispatch hands the next queued calculation to an idle, ready runner. Called with ls.mu held.
func (s *Service) dispatch(ctx context.Context, ls *liveSession) {
	for ls.ready && !ls.terminating && ls.running == "" && len(ls.queue) > 0 {
		id := ls.queue[0]
		ls.queue = ls.queue[1:]
		var calc *Calculation
		s.updateCalculation(ctx, id, func(c *Calculation) {
			c.State, c.StartTime, c.Progress = wire.CalculationExecutionStateRunning, s.now(), "Running"
			calc = c
		})
		if calc == nil {
			continue
		}
		dir := s.calculationDir(ls.id, id)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			s.failCalculation(ctx, id, "Could not prepare the calculation's scratch directory: "+err.Error())
			continue
		}
		if err := ls.runner.Execute(id, calc.Code, dir); err != nil {
			s.failCalculation(ctx, id, "The Spark driver is not reachable: "+err.Error())
			continue
		}
		ls.running = id
		s.updateSession(ctx, ls.id, func(sess *Session) {
			sess.State, sess.IdleSince = wire.SessionStateBusy, time.Time{}
		})
		s.log.Info("calculation running", "session", ls.id, "calculation", id)
	}
	if ls.ready && !ls.terminating && ls.running == "" && ls.connectActive == 0 {
		s.updateSession(ctx, ls.id, func(sess *Session) {
			if sess.State == wire.SessionStateBusy {
				sess.State, sess.IdleSince = wire.SessionStateIdle, sess.LastModifiedTime
			}
		})
	}
}

// storeResults uploads a finished calculation's three result objects from its scratch
// directory. Called without ls.mu.
func (s *Service) storeResults(ctx context.Context, sessionID, id string) error {
	calc, err := s.getCalculation(ctx, id)
	if err != nil {
		return err
	}
	return s.uploadResults(ctx, calc, s.calculationDir(sessionID, id))
}

// finishCalculation records a runner's "done" once its results are stored (uploadErr says
// how that went): the final state, and the scratch files gone. Called with ls.mu held.
func (s *Service) finishCalculation(ctx context.Context, ls *liveSession, ev RunnerEvent, uploadErr error) {
	id := ev.CalculationID
	if ls.running == id {
		ls.running = ""
	}
	canceled := ls.canceling[id]
	delete(ls.canceling, id)
	if _, err := s.getCalculation(ctx, id); err != nil {
		s.log.Error("finished calculation is unknown", "session", ls.id, "calculation", id, "err", err)
		return
	}
	dir := s.calculationDir(ls.id, id)
	s.updateCalculation(ctx, id, func(c *Calculation) {
		c.StdOutURI, c.StdErrURI, c.ResultURI, c.ResultType = c.WorkingDirectory+StdoutFile, c.WorkingDirectory+StderrFile, c.WorkingDirectory+ResultFile, ResultType
		switch {
		case uploadErr != nil:
			s.endCalculation(c, wire.CalculationExecutionStateFailed, "The calculation's results could not be written: "+uploadErr.Error())
		case ev.Status == "ok":
			s.endCalculation(c, wire.CalculationExecutionStateCompleted, "")
		case canceled:
			// Stopped per request: however the code ended (KeyboardInterrupt, or the error of its
			// cancelled Spark job), it was canceled.
			s.endCalculation(c, wire.CalculationExecutionStateCanceled, "Calculation was canceled per request.")
		case ev.Status == "aborted" && ls.terminating:
			// The runner interrupts its calculation when told to shut down: say why, not "KeyboardInterrupt".
			s.endCalculation(c, wire.CalculationExecutionStateFailed, reasonCanceledByTerminate)
		default:
			s.endCalculation(c, wire.CalculationExecutionStateFailed, exceptionReason(ev.EName, ev.EValue))
		}
	})
	if uploadErr == nil {
		os.RemoveAll(dir)
	}
	s.log.Info("calculation finished", "session", ls.id, "calculation", id, "status", ev.Status)
}

func exceptionReason(name, value string) string {
	if name == "" {
		name = "Error"
	}
	if value == "" {
		return name
	}
	return name + ": " + value
}

// uploadResults writes stdout, stderr and the result document; each exists afterwards even
// when the runner wrote nothing (clients download stderr unconditionally on failure).
func (s *Service) uploadResults(ctx context.Context, c *Calculation, dir string) error {
	for _, name := range ResultFiles {
		f, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			var body []byte
			if name == ResultFile {
				body, _ = json.Marshal(ResultDocument{Version: 1, CalculationID: c.ID, Outputs: []ResultOutput{}})
			}
			err = s.objects.Put(ctx, c.WorkingDirectory+name, bytes.NewReader(body))
		} else if err == nil {
			err = s.objects.Put(ctx, c.WorkingDirectory+name, f)
			f.Close()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// endCalculation sets a final state on c.
func (s *Service) endCalculation(c *Calculation, state, reason string) {
	c.State, c.StateChangeReason = state, truncate(reason, 1024)
	c.CompletionTime = s.now()
	c.DpuMillis = dpuMillis(1, c.StartTime, c.CompletionTime)
	switch state {
	case wire.CalculationExecutionStateCompleted:
		c.Progress = "Completed"
	case wire.CalculationExecutionStateCanceled:
		c.Progress = "Canceled"
	default:
		c.Progress = "Failed"
	}
}

func (s *Service) failCalculation(ctx context.Context, id, reason string) {
	s.updateCalculation(ctx, id, func(c *Calculation) { s.endCalculation(c, wire.CalculationExecutionStateFailed, reason) })
}

func (s *Service) updateCalculation(ctx context.Context, id string, change func(*Calculation)) {
	err := s.store.Update(ctx, func(tx Tx) error {
		c, err := tx.GetCalculation(id)
		if err != nil {
			return err
		}
		change(c)
		return tx.PutCalculation(c)
	})
	if err != nil {
		s.log.Error("updating calculation", "calculation", id, "err", err)
	}
}

func (s *Service) getCalculation(ctx context.Context, id string) (*Calculation, error) {
	var c *Calculation
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		c, err = tx.GetCalculation(id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, notFound(id, "Calculation %s is not found.", id)
	}
	return c, err
}

func (s *Service) calculationStatus(c *Calculation) *wire.CalculationStatus {
	return &wire.CalculationStatus{
		State: ptr(c.State), StateChangeReason: optional(c.StateChangeReason),
		SubmissionDateTime: wire.NewTime(c.SubmissionTime), CompletionDateTime: wire.NewTime(c.CompletionTime),
	}
}

// calculationStatistics is present from submission on (clients read it unchecked).
func (s *Service) calculationStatistics(c *Calculation) *wire.CalculationStatistics {
	ms := c.DpuMillis
	if c.State == wire.CalculationExecutionStateRunning || c.State == wire.CalculationExecutionStateCanceling {
		ms = dpuMillis(1, c.StartTime, s.now())
	}
	progress := c.Progress
	if progress == "" {
		progress = progressQueued
	}
	return &wire.CalculationStatistics{DpuExecutionInMillis: &ms, Progress: &progress}
}

// GetCalculationExecution describes a calculation; Result is set once it has finished.
func (s *Service) GetCalculationExecution(ctx context.Context, in *wire.GetCalculationExecutionRequest) (*wire.GetCalculationExecutionResponse, error) {
	c, err := s.getCalculation(ctx, *in.CalculationExecutionId)
	if err != nil {
		return nil, err
	}
	out := &wire.GetCalculationExecutionResponse{
		CalculationExecutionId: &c.ID, SessionId: &c.SessionID, Description: optional(c.Description),
		WorkingDirectory: &c.WorkingDirectory, Status: s.calculationStatus(c), Statistics: s.calculationStatistics(c),
	}
	if c.ResultURI != "" {
		out.Result = &wire.CalculationResult{StdOutS3Uri: &c.StdOutURI, StdErrorS3Uri: &c.StdErrURI, ResultS3Uri: &c.ResultURI, ResultType: &c.ResultType}
	}
	return out, nil
}

// GetCalculationExecutionStatus is the light status poll.
func (s *Service) GetCalculationExecutionStatus(ctx context.Context, in *wire.GetCalculationExecutionStatusRequest) (*wire.GetCalculationExecutionStatusResponse, error) {
	c, err := s.getCalculation(ctx, *in.CalculationExecutionId)
	if err != nil {
		return nil, err
	}
	return &wire.GetCalculationExecutionStatusResponse{Status: s.calculationStatus(c), Statistics: s.calculationStatistics(c)}, nil
}

// GetCalculationExecutionCode returns the code that was submitted.
func (s *Service) GetCalculationExecutionCode(ctx context.Context, in *wire.GetCalculationExecutionCodeRequest) (*wire.GetCalculationExecutionCodeResponse, error) {
	c, err := s.getCalculation(ctx, *in.CalculationExecutionId)
	if err != nil {
		return nil, err
	}
	return &wire.GetCalculationExecutionCodeResponse{CodeBlock: &c.Code}, nil
}

// ListCalculationExecutions lists a session's calculations, newest first.
func (s *Service) ListCalculationExecutions(ctx context.Context, in *wire.ListCalculationExecutionsRequest) (*wire.ListCalculationExecutionsResponse, error) {
	cur, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	if sess, err := s.getSession(ctx, *in.SessionId); err != nil {
		return nil, err
	} else if isConnectEngine(sess.EngineVersion) {
		return nil, errNoCalculations(sess)
	}
	limit := pageSize(in.MaxResults, 100)
	q := CalculationQuery{SessionID: *in.SessionId, Before: cur, Limit: limit + 1}
	if in.StateFilter != nil {
		q.States = []string{*in.StateFilter}
	}
	var list []*Calculation
	err = s.store.View(ctx, func(tx Tx) error {
		var err error
		list, err = tx.ListCalculations(q)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &wire.ListCalculationExecutionsResponse{Calculations: []wire.CalculationSummary{}}
	if len(list) > limit {
		list = list[:limit]
		out.NextToken = encodeToken(Cursor{Seq: list[limit-1].Seq, ID: list[limit-1].ID})
	}
	for _, c := range list {
		out.Calculations = append(out.Calculations, wire.CalculationSummary{
			CalculationExecutionId: ptr(c.ID), Description: optional(c.Description), Status: s.calculationStatus(c),
		})
	}
	return out, nil
}

// StopCalculationExecution cancels a calculation for real: a queued one never runs; a running
// one has its Spark job group cancelled and its Python code interrupted. On a finished
// calculation it succeeds and changes nothing.
func (s *Service) StopCalculationExecution(ctx context.Context, in *wire.StopCalculationExecutionRequest) (*wire.StopCalculationExecutionResponse, error) {
	c, err := s.getCalculation(ctx, *in.CalculationExecutionId)
	if err != nil {
		return nil, err
	}
	if isFinalCalculation(c.State) {
		return &wire.StopCalculationExecutionResponse{State: &c.State}, nil
	}
	ls := s.liveSession(c.SessionID)
	if ls == nil {
		return &wire.StopCalculationExecutionResponse{State: &c.State}, nil
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for i, q := range ls.queue {
		if q == c.ID {
			ls.queue = append(ls.queue[:i:i], ls.queue[i+1:]...)
			s.updateCalculation(ctx, c.ID, func(c *Calculation) {
				s.endCalculation(c, wire.CalculationExecutionStateCanceled, "Calculation was canceled per request before it started.")
			})
			return &wire.StopCalculationExecutionResponse{State: ptr(wire.CalculationExecutionStateCanceled)}, nil
		}
	}
	if ls.running != c.ID {
		c, err = s.getCalculation(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		return &wire.StopCalculationExecutionResponse{State: &c.State}, nil
	}
	if !ls.canceling[c.ID] {
		ls.canceling[c.ID] = true
		s.updateCalculation(ctx, c.ID, func(c *Calculation) { c.State = wire.CalculationExecutionStateCanceling })
		s.interruptUntilDone(ls, c.ID)
	}
	return &wire.StopCalculationExecutionResponse{State: ptr(wire.CalculationExecutionStateCanceling)}, nil
}

// interruptUntilDone interrupts the runner now and again every two seconds while the
// calculation still runs: code inside a long C call only sees the interrupt when it returns.
func (s *Service) interruptUntilDone(ls *liveSession, id string) {
	r := ls.runner
	if err := r.Interrupt(); err != nil {
		s.log.Warn("interrupting runner", "session", ls.id, "calculation", id, "err", err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for range 15 {
			select {
			case <-ls.done:
				return
			case <-time.After(2 * time.Second):
			}
			// Checked and sent under ls.mu: the next calculation is handed to the runner
			// under it too, so this SIGINT can never land on that one (the runner keeps a
			// SIGINT that comes while a calculation starts).
			ls.mu.Lock()
			still := ls.running == id
			if still {
				r.Interrupt()
			}
			ls.mu.Unlock()
			if !still {
				return
			}
		}
	}()
}

// calculationDir is where a calculation's runner writes stdout.txt, stderr.txt and
// result.json before they are uploaded.
func (s *Service) calculationDir(sessionID, calculationID string) string {
	return filepath.Join(s.sessionScratch(sessionID), "calculations", calculationID)
}

// sessionScratch is a session's scratch directory, removed when the session ends.
func (s *Service) sessionScratch(sessionID string) string {
	return filepath.Join(s.cfg.ScratchDir, "sessions", sessionID)
}

// poolScratch is a pooled runner's scratch directory (its Spark's local dir), removed when
// the runner ends: in the pool, or as the runner of the session that took it.
func (s *Service) poolScratch(runnerID string) string {
	return filepath.Join(s.cfg.ScratchDir, "pool", runnerID)
}

// removeScratch removes a scratch directory whose runner is gone; with keepLog, all but
// the runner's log (runner.log), kept to tell why a session failed.
func (s *Service) removeScratch(dir string, keepLog bool) {
	var err error
	if !keepLog {
		err = os.RemoveAll(dir)
	} else if entries, rerr := os.ReadDir(dir); rerr == nil {
		for _, e := range entries {
			if e.Name() != "runner.log" {
				err = errors.Join(err, os.RemoveAll(filepath.Join(dir, e.Name())))
			}
		}
	}
	if err != nil {
		s.log.Warn("removing scratch directory", "dir", dir, "err", err)
	}
}

// errNoCalculations refuses the calculation operations on a Spark Connect session.
func errNoCalculations(sess *Session) error {
	return invalid("Calculations are not supported on %s (session %s): run code over Spark Connect with GetSessionEndpoint.", sess.EngineVersion, sess.ID)
}
