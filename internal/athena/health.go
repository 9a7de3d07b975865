// Health checks of live runners: pings and the DEGRADED state.
package athena

import (
	"context"
	"fmt"
	"time"

	"glaux/internal/wire"
)

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
			if ls.running != "" || ls.connectActive > 0 {
				sess.State = wire.SessionStateBusy
			} else {
				sess.State, sess.IdleSince = wire.SessionStateIdle, sess.LastModifiedTime
			}
		})
		s.dispatch(ctx, ls)
	}
}
