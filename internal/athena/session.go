package athena

import (
	"context"
	"errors"
	"fmt"
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
	warmScratch string         // that runner's scratch directory, removed with the session's
	bound       chan struct{}  // closed when a warm runner confirmed (or refused) the session
	degraded    bool           // the runner stopped answering pings
	pinged      time.Time      // when the last ping was sent
	// Spark Connect engine (connect.go): the runner's server, its secret, and the proxied
	// requests in flight (the session is BUSY while there are any).
	connect       bool
	connectPort   int
	connectSecret string
	connectActive int
	connectIdle   *time.Timer // the pending IDLE after the last call (ConnectIdleGrace)
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
	if err := checkClassifications(ec.Classifications); err != nil {
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
		if wg.isConnect() {
			if err := checkConnectEngineConfiguration(ec, in.NotebookVersion); err != nil {
				return err
			}
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
	for k := range sessionSparkProperties(ec) {
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
	if !isSparkEngine(effectiveEngine(wg)) {
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
