// Session lifecycle: starting runners, their events, ending sessions, restart recovery
// and the idle timeout.
package athena

import (
	"context"
	"fmt"
	"time"

	"glaux/internal/wire"
)

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
	scratch := s.sessionScratch(sess.ID)
	ls.spec = RunnerSpec{
		SessionID: sess.ID, WorkGroup: sess.WorkGroup, EngineVersion: sess.EngineVersion,
		SparkConf: s.sparkConf(sess, scratch), ScratchDir: scratch,
	}
	ls.spec.Env = localSparkEnv(ls.spec.SparkConf)
	ls.bound = make(chan struct{})
	if isConnectEngine(sess.EngineVersion) {
		// A cold runner starts the session's Spark Connect server with a secret of its own.
		ls.connect, ls.connectSecret = true, newConnectSecret()
		ls.spec.Env = withEnv(ls.spec.Env, connectTokenEnv, ls.connectSecret)
	}
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
	if err := s.fetchDeps(context.Background(), ls.spec.SparkConf, ls.spec.ScratchDir); err != nil { // deps.go
		s.log.Error("session's files not fetched", "session", ls.id, "err", err)
		s.finishSession(ls, wire.SessionStateFailed, "The Spark driver could not be started: "+err.Error())
		return
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
	ctx := context.Background()
	var uploadErr error
	if ev.Type == EventDone {
		// Stored before anything changes, and outside ls.mu: a slow object store must hold
		// up neither the session's API calls nor the health checks of every session. The
		// calculation stays RUNNING meanwhile; its later events wait on this goroutine.
		uploadErr = s.storeResults(ctx, ls.id, ev.CalculationID)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	switch ev.Type {
	case EventReady:
		if ls.connect && ev.ConnectPort == 0 && !ls.terminating {
			s.log.Error("session runner started without its Spark Connect server", "session", ls.id)
			ls.terminating, ls.endReason = true, "The Spark driver started without its Spark Connect server (see the runner log)."
			s.updateSession(ctx, ls.id, func(sess *Session) { sess.State = wire.SessionStateTerminating })
			go ls.runner.Terminate(context.Background())
			return
		}
		ls.ready, ls.connectPort = true, ev.ConnectPort
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
		s.finishCalculation(ctx, ls, ev, uploadErr)
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
	// Its runner is gone: so go its files, but for the log of a failed one.
	failed := state == wire.SessionStateFailed
	s.removeScratch(s.sessionScratch(ls.id), failed)
	if ls.warmScratch != "" {
		s.removeScratch(ls.warmScratch, failed)
	}
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

// terminate asks a live session's runner to end; the exit event finishes the session.
func (s *Service) terminate(ls *liveSession, reason string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.terminating {
		return
	}
	ls.terminating, ls.endReason = true, reason
	ls.stopConnectIdle() // no IDLE to write after a Spark Connect call any more
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
	s.closeSystem()
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
