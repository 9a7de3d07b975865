package athena

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"glaux/internal/wire"
)

// Session states that hold (or are about to hold) a runner.
var activeSessionStates = []string{wire.SessionStateCreating, wire.SessionStateCreated, wire.SessionStateIdle, wire.SessionStateBusy, wire.SessionStateDegraded}

// States a client lists by default: the ones it can still use.
var listedSessionStates = []string{wire.SessionStateCreating, wire.SessionStateCreated, wire.SessionStateIdle, wire.SessionStateBusy}

func isActiveSession(state string) bool {
	for _, s := range activeSessionStates {
		if s == state {
			return true
		}
	}
	return false
}

const (
	sparkEngineVersion = "PySpark engine version 3"
	defaultIdleMinutes = 20
	reasonTerminated   = "Session was terminated per request."
	reasonRestarted    = "glaux restarted while the session was active; its Spark driver is gone"
	// reasonCanceledByTerminate ends (FAILED) the calculations of a session being terminated.
	reasonCanceledByTerminate = "Calculation canceled because the session was terminated."
	defaultSessionDPUCap      = 5000
)

// liveSession is a session whose runner belongs to this process. mu orders everything
// that changes the session: API calls and runner events.
type liveSession struct {
	mu      sync.Mutex
	id      string
	runner  Runner
	dpus    int32
	queue   []string // calculation ids waiting, in submission order
	running string   // calculation id being run, "" when none
	// canceling marks calculations whose stop was requested while running.
	canceling map[string]bool
	// terminating is set once TerminateSession (or the idle timeout) asked the runner to end.
	terminating bool
	endReason   string
	ready       bool
	executors   []ExecutorInfo // last snapshot, kept for ListExecutors after the end
	done        chan struct{}  // closed when the runner has exited and the session is final
	spec        RunnerSpec     // how to start its runner cold
	warm        *warmRunner    // the pooled runner it took, until bound
	bound       chan struct{}  // closed when a warm runner confirmed (or refused) the session
	degraded    bool           // the runner stopped answering pings
	pinged      time.Time      // when the last ping was sent
}

func (s *Service) liveSession(id string) *liveSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[id]
}

// StartSession creates a session and starts its Spark driver; it is IDLE once Spark is up.
func (s *Service) StartSession(ctx context.Context, in *wire.StartSessionRequest) (*wire.StartSessionResponse, error) {
	ec := in.EngineConfiguration
	if err := s.checkEngineConfiguration(ec, in.NotebookVersion); err != nil {
		return nil, err
	}
	idle := int32(defaultIdleMinutes)
	if in.SessionIdleTimeoutInMinutes != nil {
		idle = *in.SessionIdleTimeoutInMinutes
	}
	params := *in
	params.ClientRequestToken = nil

	var sess *Session
	var existing string
	err := s.store.Update(ctx, func(tx Tx) error {
		id, hash, err := checkToken(tx, "StartSession", in.ClientRequestToken, params)
		if err != nil || id != "" {
			existing = id
			return err
		}
		wg, err := s.sparkWorkGroup(tx, *in.WorkGroup)
		if err != nil {
			return err
		}
		notebookID := ec.AdditionalConfigs["NotebookId"]
		if notebookID != "" {
			nb, err := tx.GetNotebook(notebookID)
			if errors.Is(err, ErrNotFound) || (err == nil && nb.WorkGroup != wg.Name) {
				return invalid("Notebook %s is not found in workgroup %s.", notebookID, wg.Name)
			} else if err != nil {
				return err
			}
		}
		if err := s.checkCapacity(tx, coordinatorDPUs(ec)); err != nil {
			return err
		}
		now := s.now()
		sess = &Session{
			ID: s.newID(), WorkGroup: wg.Name, EngineVersion: effectiveEngine(wg),
			NotebookVersion: deref(in.NotebookVersion), NotebookID: notebookID,
			EngineConfiguration: *ec, MonitoringConfiguration: in.MonitoringConfiguration,
			ExecutionRole:      firstNonEmpty(deref(in.ExecutionRole), deref(wg.Configuration.ExecutionRole)),
			IdleTimeoutMinutes: idle, State: wire.SessionStateCreating,
			StartTime: now, LastModifiedTime: now, DPUs: coordinatorDPUs(ec),
			Description: deref(in.Description),
		}
		sess.WorkingDirectory = s.outputLocation(wg) + sess.ID + "/"
		if rc := wg.Configuration.ResultConfiguration; rc != nil && rc.EncryptionConfiguration != nil {
			sess.EncryptionOption = deref(rc.EncryptionConfiguration.EncryptionOption)
		}
		if err := tx.PutSession(sess); err != nil {
			return err
		}
		if len(in.Tags) > 0 || (in.CopyWorkGroupTags != nil && *in.CopyWorkGroupTags) {
			tags := in.Tags
			if in.CopyWorkGroupTags != nil && *in.CopyWorkGroupTags {
				wgTags, err := tx.GetTags(s.workGroupARN(wg.Name))
				if err != nil {
					return err
				}
				tags = append(wgTags, tags...)
			}
			if err := tx.PutTags(s.sessionARN(wg.Name, sess.ID), tags); err != nil {
				return err
			}
		}
		return s.rememberToken(tx, "StartSession", in.ClientRequestToken, hash, sess.ID)
	})
	if err != nil {
		return nil, err
	}
	if existing != "" {
		return s.startedState(ctx, existing)
	}
	if bound := s.launch(sess); bound != nil {
		// A warm runner: answer IDLE at once (binding takes milliseconds).
		select {
		case <-bound:
		case <-time.After(5 * time.Second):
		}
		return s.startedState(ctx, sess.ID)
	}
	return &wire.StartSessionResponse{SessionId: &sess.ID, State: ptr(wire.SessionStateCreating)}, nil
}

func (s *Service) startedState(ctx context.Context, id string) (*wire.StartSessionResponse, error) {
	sess, err := s.getSession(ctx, id)
	if err != nil {
		return nil, err
	}
	return &wire.StartSessionResponse{SessionId: &sess.ID, State: &sess.State}, nil
}

// checkEngineConfiguration applies the rules the model cannot express.
func (s *Service) checkEngineConfiguration(ec *wire.EngineConfiguration, notebookVersion *string) error {
	if notebookVersion != nil && *notebookVersion != s.cfg.NotebookVersion {
		return invalid("NotebookVersion %q is not supported; the supported version is %q.", *notebookVersion, s.cfg.NotebookVersion)
	}
	if ec.AdditionalConfigs["NotebookId"] != "" && notebookVersion == nil {
		return invalid("NotebookVersion is required when NotebookId is provided.")
	}
	for k := range ec.SparkProperties {
		if !strings.HasPrefix(k, "spark.") {
			return invalid("SparkProperties key %q is not allowed: keys must start with \"spark.\".", k)
		}
		if strings.HasPrefix(k, "spark.athena.") {
			return invalid("SparkProperties key %q is not allowed: the \"spark.athena.\" prefix is reserved.", k)
		}
	}
	if ec.MaxConcurrentDpus != nil && *ec.MaxConcurrentDpus < coordinatorDPUs(ec)+1 {
		return invalid("MaxConcurrentDpus (%d) must leave room for the coordinator and at least one executor DPU.", *ec.MaxConcurrentDpus)
	}
	return nil
}

func coordinatorDPUs(ec *wire.EngineConfiguration) int32 {
	if ec.CoordinatorDpuSize != nil {
		return *ec.CoordinatorDpuSize
	}
	return 1
}

// sparkWorkGroup loads a workgroup that may run sessions.
func (s *Service) sparkWorkGroup(tx Tx, name string) (*WorkGroup, error) {
	wg, err := tx.GetWorkGroup(name)
	if errors.Is(err, ErrNotFound) {
		return nil, invalid("WorkGroup %s is not found.", name)
	}
	if err != nil {
		return nil, err
	}
	if effectiveEngine(wg) != sparkEngineVersion {
		return nil, invalid("Workgroup EngineVersion is not Spark.")
	}
	if wg.State != wire.WorkGroupStateEnabled {
		return nil, invalid("WorkGroup %s is disabled.", name)
	}
	return wg, nil
}

func effectiveEngine(wg *WorkGroup) string {
	if ev := wg.Configuration.EngineVersion; ev != nil {
		if ev.EffectiveEngineVersion != nil {
			return *ev.EffectiveEngineVersion
		}
		if ev.SelectedEngineVersion != nil && *ev.SelectedEngineVersion != "AUTO" {
			return *ev.SelectedEngineVersion
		}
	}
	return "Athena engine version 3"
}

// checkCapacity enforces the server-wide caps on active sessions and DPUs.
func (s *Service) checkCapacity(tx Tx, dpus int32) error {
	if s.cfg.MaxSessions <= 0 && s.cfg.MaxSessionDPUs <= 0 {
		return nil
	}
	active, err := tx.ListSessions(SessionQuery{States: activeSessionStates})
	if err != nil {
		return err
	}
	held := int32(0)
	for _, a := range active {
		held += a.DPUs
	}
	if s.cfg.MaxSessions > 0 && len(active) >= s.cfg.MaxSessions {
		return tooMany("Maximum allowed sessions reached: %d sessions are active (limit %d). Terminate a session or raise --max-sessions.", len(active), s.cfg.MaxSessions)
	}
	if s.cfg.MaxSessionDPUs > 0 && int(held+dpus) > s.cfg.MaxSessionDPUs {
		return tooMany("Maximum allowed DPUs reached: %d DPUs are held by active sessions (limit %d). Terminate a session or raise --max-dpus.", held, s.cfg.MaxSessionDPUs)
	}
	return nil
}

// outputLocation is where a workgroup's results go, ending with "/".
func (s *Service) outputLocation(wg *WorkGroup) string {
	loc := s.cfg.DefaultOutputLocation
	if rc := wg.Configuration.ResultConfiguration; rc != nil && rc.OutputLocation != nil && *rc.OutputLocation != "" {
		loc = *rc.OutputLocation
	}
	if !strings.HasSuffix(loc, "/") {
		loc += "/"
	}
	return loc
}

func (s *Service) workGroupARN(name string) string {
	return fmt.Sprintf("arn:aws:athena:%s:%s:workgroup/%s", s.cfg.Region, s.cfg.AccountID, name)
}

func (s *Service) sessionARN(wg, id string) string {
	return fmt.Sprintf("arn:aws:athena:%s:%s:workgroup/%s/session/%s", s.cfg.Region, s.cfg.AccountID, wg, id)
}

// sparkConf is the Spark configuration of a session: server defaults, DPU sizing, then the
// user's SparkProperties, which win.
func (s *Service) sparkConf(sess *Session, scratch string) map[string]string {
	conf := s.baseSparkConf(sess, scratch)
	for k, v := range sess.EngineConfiguration.SparkProperties {
		conf[k] = v
	}
	return conf
}

// baseSparkConf is a session's Spark configuration before its own SparkProperties.
func (s *Service) baseSparkConf(sess *Session, scratch string) map[string]string {
	conf := map[string]string{
		"spark.master":                 s.cfg.SparkMaster,
		"spark.app.name":               "glaux-" + sess.ID,
		"spark.driver.memory":          strconv.Itoa(s.cfg.MemoryMBPerDPU) + "m",
		"spark.driver.cores":           strconv.Itoa(s.cfg.CoresPerDPU),
		"spark.ui.enabled":             "true",
		"spark.ui.port":                "0",
		"spark.ui.showConsoleProgress": "false",
		// One warehouse for the installation: a warm runner cannot move it (a static conf).
		"spark.sql.warehouse.dir":       filepath.Join(s.cfg.ScratchDir, "warehouse"),
		"spark.driver.extraJavaOptions": "-Dderby.system.home=" + filepath.Join(scratch, "derby"),
		// Java ignores TMPDIR: keep Spark's shuffle and temp files in the session's scratch.
		"spark.local.dir": filepath.Join(scratch, "spark-local"),
	}
	if conf["spark.master"] == "" {
		conf["spark.master"] = fmt.Sprintf("local[%d]", max(1, s.cfg.CoresPerDPU))
	}
	for k, v := range s.cfg.SparkDefaults {
		conf[k] = v
	}
	for k, v := range s.clusterConf(sess, conf) { // workgroup, cluster executors, S3A: cluster.go
		conf[k] = v
	}
	return conf
}

// launch starts the runner of a new session, from the warm pool when it can (then the
// returned channel closes once the runner took the session); failures end it FAILED.
func (s *Service) launch(sess *Session) (bound <-chan struct{}) {
	ls := &liveSession{id: sess.ID, dpus: sess.DPUs, canceling: map[string]bool{}, done: make(chan struct{})}
	// Locked before it is published: a terminate (Close) must not see it without its runner,
	// mark it terminating and leave the runner started next to run on.
	ls.mu.Lock()
	defer ls.mu.Unlock()
	s.mu.Lock()
	s.live[sess.ID] = ls
	s.mu.Unlock()
	scratch := filepath.Join(s.cfg.ScratchDir, "sessions", sess.ID)
	ls.spec = RunnerSpec{
		SessionID: sess.ID, WorkGroup: sess.WorkGroup, EngineVersion: sess.EngineVersion,
		SparkConf: s.sparkConf(sess, scratch), ScratchDir: scratch,
	}
	ls.spec.Env = localSparkEnv(ls.spec.SparkConf)
	ls.bound = make(chan struct{})
	if s.bindWarm(ls, sess, s.baseSparkConf(sess, scratch)) {
		return ls.bound
	}
	s.startCold(ls)
	return nil
}

// startCold starts a fresh runner for ls. Called with ls.mu held.
func (s *Service) startCold(ls *liveSession) {
	// Pooled runners yield to sessions when the caps are reached.
	for _, total := s.PoolSize(); total > 0 && !s.roomFor(total); _, total = s.PoolSize() {
		if !s.evictWarm() {
			break
		}
	}
	r, err := s.runtime.Start(context.Background(), ls.spec, func(ev RunnerEvent) { s.onEvent(ls, ev) })
	if err != nil {
		s.log.Error("runner did not start", "session", ls.id, "err", err)
		s.finishSession(ls, wire.SessionStateFailed, "The Spark driver could not be started: "+err.Error())
		return
	}
	ls.runner = r
	s.log.Info("session starting", "session", ls.id, "workgroup", ls.spec.WorkGroup, "pid", r.Pid())
}

// onEvent applies one runner event. Events of a runner arrive in order from one goroutine.
func (s *Service) onEvent(ls *liveSession, ev RunnerEvent) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ctx := context.Background()
	switch ev.Type {
	case EventReady:
		ls.ready = true
		s.log.Info("session ready", "session", ls.id, "spark_version", ev.SparkVersion, "app_id", ev.AppID)
		if ls.terminating {
			return
		}
		s.updateSession(ctx, ls.id, func(sess *Session) {
			if sess.State == wire.SessionStateCreating || sess.State == wire.SessionStateCreated {
				sess.State = wire.SessionStateIdle
				sess.IdleSince = sess.LastModifiedTime
			}
		})
		s.dispatch(ctx, ls)
	case EventStarted:
		s.updateCalculation(ctx, ev.CalculationID, func(c *Calculation) {
			if c.Progress == "" || c.Progress == progressQueued {
				c.Progress = "Running"
			}
		})
	case EventProgress:
		s.updateCalculation(ctx, ev.CalculationID, func(c *Calculation) {
			c.Progress = truncate(ev.Progress, 1024)
		})
	case EventBound:
		s.onBound(ls, ev)
	case EventDone:
		s.finishCalculation(ctx, ls, ev)
		s.dispatch(ctx, ls)
	case EventExited:
		state, reason := wire.SessionStateFailed, "The Spark driver exited: "+ev.Reason
		if ls.terminating {
			state, reason = wire.SessionStateTerminated, ls.endReason
		} else if !ls.ready {
			reason = "The Spark driver could not be started: " + ev.Reason
		}
		s.finishSession(ls, state, reason)
	}
}

// finishSession records a session's end, fails what it had not finished and forgets it.
// Called with ls.mu held.
func (s *Service) finishSession(ls *liveSession, state, reason string) {
	ctx := context.Background()
	calcReason := "The session ended before the calculation finished: " + reason
	if state == wire.SessionStateTerminated {
		calcReason = reasonCanceledByTerminate
	}
	ids := append([]string{}, ls.queue...)
	if ls.running != "" {
		ids = append(ids, ls.running)
	}
	for _, id := range ids {
		s.updateCalculation(ctx, id, func(c *Calculation) {
			if !isFinalCalculation(c.State) {
				s.endCalculation(c, wire.CalculationExecutionStateFailed, calcReason)
			}
		})
	}
	ls.queue, ls.running = nil, ""
	s.updateSession(ctx, ls.id, func(sess *Session) {
		sess.State = state
		sess.StateChangeReason = truncate(reason, 1024)
		sess.EndTime = sess.LastModifiedTime
		sess.IdleSince = time.Time{}
		sess.DpuMillis = dpuMillis(sess.DPUs, sess.StartTime, sess.EndTime)
	})
	s.log.Info("session ended", "session", ls.id, "state", state, "reason", reason)
	s.mu.Lock()
	delete(s.live, ls.id)
	s.mu.Unlock()
	select {
	case <-ls.done:
	default:
		close(ls.done)
	}
	go s.fillPool() // the session's room may go back to the pool
}

// updateSession changes a stored session in one transaction; LastModifiedTime is now.
func (s *Service) updateSession(ctx context.Context, id string, change func(*Session)) {
	err := s.store.Update(ctx, func(tx Tx) error {
		sess, err := tx.GetSession(id)
		if err != nil {
			return err
		}
		sess.LastModifiedTime = s.now()
		change(sess)
		return tx.PutSession(sess)
	})
	if err != nil {
		s.log.Error("updating session", "session", id, "err", err)
	}
}

func dpuMillis(dpus int32, from, to time.Time) int64 {
	if from.IsZero() || to.Before(from) {
		return 0
	}
	return int64(dpus) * to.Sub(from).Milliseconds()
}

// GetSession describes a session.
func (s *Service) GetSession(ctx context.Context, in *wire.GetSessionRequest) (*wire.GetSessionResponse, error) {
	sess, err := s.getSession(ctx, *in.SessionId)
	if err != nil {
		return nil, err
	}
	ec := sess.EngineConfiguration
	out := &wire.GetSessionResponse{
		SessionId: &sess.ID, WorkGroup: &sess.WorkGroup, EngineVersion: &sess.EngineVersion,
		Description: optional(sess.Description), NotebookVersion: optional(sess.NotebookVersion),
		EngineConfiguration: &ec, MonitoringConfiguration: sess.MonitoringConfiguration,
		SessionConfiguration: &wire.SessionConfiguration{
			ExecutionRole:               optional(sess.ExecutionRole),
			WorkingDirectory:            &sess.WorkingDirectory,
			IdleTimeoutSeconds:          ptr(int64(sess.IdleTimeoutMinutes) * 60),
			SessionIdleTimeoutInMinutes: ptr(sess.IdleTimeoutMinutes),
		},
		Status:     s.sessionStatus(sess),
		Statistics: &wire.SessionStatistics{DpuExecutionInMillis: ptr(s.sessionDpuMillis(sess))},
	}
	if sess.EncryptionOption != "" {
		out.SessionConfiguration.EncryptionConfiguration = &wire.EncryptionConfiguration{EncryptionOption: &sess.EncryptionOption}
	}
	return out, nil
}

func (s *Service) sessionDpuMillis(sess *Session) int64 {
	if isActiveSession(sess.State) || sess.State == wire.SessionStateTerminating {
		return dpuMillis(sess.DPUs, sess.StartTime, s.now())
	}
	return sess.DpuMillis
}

func (s *Service) sessionStatus(sess *Session) *wire.SessionStatus {
	return &wire.SessionStatus{
		State: ptr(sess.State), StateChangeReason: optional(sess.StateChangeReason),
		StartDateTime: wire.NewTime(sess.StartTime), LastModifiedDateTime: wire.NewTime(sess.LastModifiedTime),
		EndDateTime: wire.NewTime(sess.EndTime), IdleSinceDateTime: wire.NewTime(sess.IdleSince),
	}
}

// getSession loads a session; an unknown id is InvalidRequestException, which clients
// (PyAthena) read as "session not found".
func (s *Service) getSession(ctx context.Context, id string) (*Session, error) {
	var sess *Session
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		sess, err = tx.GetSession(id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Code: CodeInvalidRequest, AthenaErrorCode: ErrCodeResourceNotFound, Message: fmt.Sprintf("Session %s is not found.", id)}
	}
	return sess, err
}

// GetSessionStatus is the light status poll.
func (s *Service) GetSessionStatus(ctx context.Context, in *wire.GetSessionStatusRequest) (*wire.GetSessionStatusResponse, error) {
	sess, err := s.getSession(ctx, *in.SessionId)
	if err != nil {
		return nil, err
	}
	return &wire.GetSessionStatusResponse{SessionId: &sess.ID, Status: s.sessionStatus(sess)}, nil
}

// ListSessions lists a workgroup's sessions, newest first; by default only usable ones.
func (s *Service) ListSessions(ctx context.Context, in *wire.ListSessionsRequest) (*wire.ListSessionsResponse, error) {
	cur, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.MaxResults, 100)
	q := SessionQuery{WorkGroup: *in.WorkGroup, States: listedSessionStates, Before: cur, Limit: limit + 1}
	if in.StateFilter != nil {
		q.States = []string{*in.StateFilter}
	}
	var list []*Session
	err = s.store.View(ctx, func(tx Tx) error {
		if _, err := tx.GetWorkGroup(*in.WorkGroup); errors.Is(err, ErrNotFound) {
			return invalid("WorkGroup %s is not found.", *in.WorkGroup)
		} else if err != nil {
			return err
		}
		list, err = tx.ListSessions(q)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &wire.ListSessionsResponse{Sessions: []wire.SessionSummary{}}
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		out.NextToken = encodeToken(Cursor{At: last.StartTime, ID: last.ID})
	}
	for _, sess := range list {
		out.Sessions = append(out.Sessions, wire.SessionSummary{
			SessionId: ptr(sess.ID), Description: optional(sess.Description),
			EngineVersion:   &wire.EngineVersion{SelectedEngineVersion: ptr(sess.EngineVersion), EffectiveEngineVersion: ptr(sess.EngineVersion)},
			NotebookVersion: optional(sess.NotebookVersion), Status: s.sessionStatus(sess),
		})
	}
	return out, nil
}

// ListNotebookSessions lists the sessions started for a notebook, newest first.
func (s *Service) ListNotebookSessions(ctx context.Context, in *wire.ListNotebookSessionsRequest) (*wire.ListNotebookSessionsResponse, error) {
	cur, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := min(pageSize(in.MaxResults, 10), 10) // the output list holds at most 10
	var list []*Session
	err = s.store.View(ctx, func(tx Tx) error {
		if _, err := tx.GetNotebook(*in.NotebookId); errors.Is(err, ErrNotFound) {
			return notFound(*in.NotebookId, "Notebook %s is not found.", *in.NotebookId)
		} else if err != nil {
			return err
		}
		list, err = tx.ListSessions(SessionQuery{NotebookID: *in.NotebookId, Before: cur, Limit: limit + 1})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &wire.ListNotebookSessionsResponse{NotebookSessionsList: []wire.NotebookSessionSummary{}}
	if len(list) > limit {
		list = list[:limit]
		out.NextToken = encodeToken(Cursor{At: list[limit-1].StartTime, ID: list[limit-1].ID})
	}
	for _, sess := range list {
		out.NotebookSessionsList = append(out.NotebookSessionsList, wire.NotebookSessionSummary{SessionId: ptr(sess.ID), CreationTime: wire.NewTime(sess.StartTime)})
	}
	return out, nil
}

// TerminateSession ends a session; on an inactive one it succeeds and changes nothing.
func (s *Service) TerminateSession(ctx context.Context, in *wire.TerminateSessionRequest) (*wire.TerminateSessionResponse, error) {
	sess, err := s.getSession(ctx, *in.SessionId)
	if err != nil {
		return nil, err
	}
	if !isActiveSession(sess.State) {
		return &wire.TerminateSessionResponse{State: ptr(sess.State)}, nil
	}
	ls := s.liveSession(sess.ID)
	if ls == nil {
		// Active in the store but no runner here: end it now.
		s.updateSession(ctx, sess.ID, func(st *Session) {
			st.State, st.StateChangeReason, st.EndTime = wire.SessionStateTerminated, reasonTerminated, st.LastModifiedTime
		})
		return &wire.TerminateSessionResponse{State: ptr(wire.SessionStateTerminated)}, nil
	}
	s.terminate(ls, reasonTerminated)
	return &wire.TerminateSessionResponse{State: ptr(wire.SessionStateTerminating)}, nil
}

// terminate asks a live session's runner to end; the exit event finishes the session.
func (s *Service) terminate(ls *liveSession, reason string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.terminating {
		return
	}
	ls.terminating, ls.endReason = true, reason
	s.updateSession(context.Background(), ls.id, func(sess *Session) {
		sess.State, sess.StateChangeReason, sess.IdleSince = wire.SessionStateTerminating, reason, time.Time{}
	})
	if ls.runner == nil {
		return
	}
	r := ls.runner
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Terminate(ctx); err != nil {
			s.log.Warn("terminating runner", "session", ls.id, "err", err)
		}
	}()
}

// Recover ends, after a restart, the sessions whose runner died with the previous process,
// and fails their unfinished calculations. Call once before serving.
func (s *Service) Recover(ctx context.Context) error {
	return s.store.Update(ctx, func(tx Tx) error {
		list, err := tx.ListSessions(SessionQuery{States: append([]string{wire.SessionStateTerminating}, activeSessionStates...)})
		if err != nil {
			return err
		}
		now := s.now()
		for _, sess := range list {
			calcs, err := tx.ListCalculations(CalculationQuery{SessionID: sess.ID, States: unfinishedCalculationStates})
			if err != nil {
				return err
			}
			for _, c := range calcs {
				c.State, c.StateChangeReason, c.CompletionTime = wire.CalculationExecutionStateFailed, "The session ended before the calculation finished: "+reasonRestarted, now
				if err := tx.PutCalculation(c); err != nil {
					return err
				}
			}
			if sess.State == wire.SessionStateTerminating {
				sess.State = wire.SessionStateTerminated
			} else {
				sess.State, sess.StateChangeReason = wire.SessionStateFailed, reasonRestarted
			}
			sess.LastModifiedTime, sess.EndTime, sess.IdleSince = now, now, time.Time{}
			sess.DpuMillis = dpuMillis(sess.DPUs, sess.StartTime, now)
			if err := tx.PutSession(sess); err != nil {
				return err
			}
			s.log.Info("session ended by restart", "session", sess.ID, "state", sess.State)
		}
		return nil
	})
}

// Run does the service's background work until ctx ends: idle timeouts.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.expireIdle(ctx)
			s.checkHealth(ctx)
		}
	}
}

func (s *Service) expireIdle(ctx context.Context) {
	s.mu.Lock()
	ids := make([]string, 0, len(s.live))
	for id := range s.live {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	now := s.now()
	for _, id := range ids {
		sess, err := s.getSession(ctx, id)
		if err != nil || sess.State != wire.SessionStateIdle || sess.IdleSince.IsZero() {
			continue
		}
		limit := time.Duration(sess.IdleTimeoutMinutes) * time.Minute
		if now.Sub(sess.IdleSince) >= limit {
			if ls := s.liveSession(id); ls != nil {
				s.terminate(ls, fmt.Sprintf("Session was terminated after being idle for %d minute(s) (SessionIdleTimeoutInMinutes).", sess.IdleTimeoutMinutes))
			}
		}
	}
}

// Close terminates every live session's runner and waits for them to be gone, so that
// no runner outlives glaux.
func (s *Service) Close(ctx context.Context) {
	s.closePool()
	s.mu.Lock()
	list := make([]*liveSession, 0, len(s.live))
	for _, ls := range s.live {
		list = append(list, ls)
	}
	s.mu.Unlock()
	for _, ls := range list {
		s.terminate(ls, "glaux was shut down.")
	}
	for _, ls := range list {
		select {
		case <-ls.done:
		case <-ctx.Done():
		}
	}
	s.wg.Wait()
}

// RunnerPid is the process id of a live session's runner (0 when none); for tests and logs.
func (s *Service) RunnerPid(sessionID string) int {
	if ls := s.liveSession(sessionID); ls != nil {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		if ls.runner != nil {
			return ls.runner.Pid()
		}
	}
	return 0
}

func ptr[T any](v T) *T { return &v }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

var _ = os.MkdirAll

// Health checks: glaux pings every live runner; one that has not said anything for
// degradedAfter (stopped, or wedged so hard that its command thread cannot answer) makes its
// session DEGRADED, and the session returns to IDLE or BUSY as soon as the runner answers.
const (
	pingEvery     = 2 * time.Second
	degradedAfter = 10 * time.Second
)

func (s *Service) checkHealth(ctx context.Context) {
	s.mu.Lock()
	list := make([]*liveSession, 0, len(s.live))
	for _, ls := range s.live {
		list = append(list, ls)
	}
	s.mu.Unlock()
	now := s.now()
	for _, ls := range list {
		ls.mu.Lock()
		s.checkRunner(ctx, ls, now)
		ls.mu.Unlock()
	}
}

// checkRunner is checkHealth for one session; called with ls.mu held.
func (s *Service) checkRunner(ctx context.Context, ls *liveSession, now time.Time) {
	if ls.runner == nil || !ls.ready || ls.terminating {
		return
	}
	if now.Sub(ls.pinged) >= pingEvery {
		ls.pinged = now
		if err := ls.runner.Ping(); err != nil {
			s.log.Debug("ping", "session", ls.id, "err", err)
		}
	}
	silent := now.Sub(ls.runner.LastHeard())
	switch {
	case !ls.degraded && silent > degradedAfter:
		ls.degraded = true
		s.log.Warn("session degraded: its Spark driver does not answer", "session", ls.id, "silent", silent.Round(time.Second))
		s.updateSession(ctx, ls.id, func(sess *Session) {
			sess.State, sess.IdleSince = wire.SessionStateDegraded, time.Time{}
			sess.StateChangeReason = fmt.Sprintf("The Spark driver has not answered for %d seconds.", int(silent.Seconds()))
		})
	case ls.degraded && silent < pingEvery+time.Second:
		ls.degraded = false
		s.log.Info("session healthy again", "session", ls.id)
		s.updateSession(ctx, ls.id, func(sess *Session) {
			sess.StateChangeReason = ""
			if ls.running != "" {
				sess.State = wire.SessionStateBusy
			} else {
				sess.State, sess.IdleSince = wire.SessionStateIdle, sess.LastModifiedTime
			}
		})
		s.dispatch(ctx, ls)
	}
}

// localSparkEnv keeps a local-mode driver on loopback: its RPC and UI otherwise bind every
// interface (Spark reads the UI's address from SPARK_LOCAL_IP only). A cluster session's
// driver must be reachable by the workers, so it is left to the cluster settings.
func localSparkEnv(conf map[string]string) map[string]string {
	if strings.HasPrefix(conf["spark.master"], "local") {
		return map[string]string{"SPARK_LOCAL_IP": "127.0.0.1"}
	}
	return nil
}
