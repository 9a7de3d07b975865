package athena

import (
	"context"
	"fmt"
	"sort"
	"time"

	"glaux/internal/wire"
)

// ListExecutors reports the session's driver (COORDINATOR) and Spark executors (WORKER) as
// Spark itself sees them. StartDateTime and TerminationDateTime are epoch milliseconds;
// ExecutorSize is in DPUs.
func (s *Service) ListExecutors(ctx context.Context, in *wire.ListExecutorsRequest) (*wire.ListExecutorsResponse, error) {
	cur, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	sess, err := s.getSession(ctx, *in.SessionId)
	if err != nil {
		return nil, err
	}
	list := s.executors(ctx, sess)
	if in.ExecutorStateFilter != nil {
		kept := list[:0]
		for _, e := range list {
			if *e.ExecutorState == *in.ExecutorStateFilter {
				kept = append(kept, e)
			}
		}
		list = kept
	}
	limit := pageSize(in.MaxResults, 100)
	start := min(int(cur.Seq), len(list))
	out := &wire.ListExecutorsResponse{SessionId: &sess.ID, ExecutorsSummary: list[start:]}
	if len(list)-start > limit {
		out.ExecutorsSummary = list[start : start+limit]
		out.NextToken = encodeToken(Cursor{Seq: int64(start + limit)})
	}
	return out, nil
}

// executorsWait bounds how long ListExecutors waits for a driver's Spark REST API.
const executorsWait = 10 * time.Second

// executors lists a session's executors newest first: from Spark while the runner lives,
// else from the last snapshot, else the coordinator alone from the session's own times.
func (s *Service) executors(ctx context.Context, sess *Session) []wire.ExecutorsSummary {
	var infos []ExecutorInfo
	if ls := s.liveSession(sess.ID); ls != nil {
		ls.mu.Lock()
		r, ready, last := ls.runner, ls.ready, ls.executors
		ls.mu.Unlock()
		if r != nil && ready {
			// Spark's REST API answers slowly on a loaded machine (its first call sets up
			// handlers): allow it executorsWait, and answer the last snapshot if it is late.
			qctx, cancel := context.WithTimeout(ctx, executorsWait)
			got, err := r.Executors(qctx)
			cancel()
			if err != nil {
				s.log.Warn("reading executors from Spark", "session", sess.ID, "err", err)
				infos = last
			} else {
				infos = got
				ls.mu.Lock()
				ls.executors = got
				ls.mu.Unlock()
			}
		}
	}
	final := !isActiveSession(sess.State)
	if infos == nil {
		infos = []ExecutorInfo{{ID: "driver", IsDriver: true, Active: !final, AddTime: sess.StartTime, RemoveTime: sess.EndTime}}
	}
	out := make([]wire.ExecutorsSummary, 0, len(infos))
	for _, e := range infos {
		typ, id := wire.ExecutorTypeWorker, e.ID
		if e.IsDriver {
			typ, id = wire.ExecutorTypeCoordinator, fmt.Sprintf("coordinator-%s", sess.ID)
		}
		state := wire.ExecutorStateRegistered
		switch {
		case sess.State == wire.SessionStateCreating && e.IsDriver:
			state = wire.ExecutorStateCreating
		case e.Failed:
			state = wire.ExecutorStateFailed
		case !e.Active || final:
			state = wire.ExecutorStateTerminated
		}
		item := wire.ExecutorsSummary{ExecutorId: ptr(id), ExecutorType: ptr(typ), ExecutorState: ptr(state), ExecutorSize: ptr(s.executorDPUs(e))}
		if !e.AddTime.IsZero() {
			item.StartDateTime = ptr(e.AddTime.UnixMilli())
		}
		end := e.RemoveTime
		if end.IsZero() && final {
			end = sess.EndTime
		}
		if !end.IsZero() && state != wire.ExecutorStateRegistered {
			item.TerminationDateTime = ptr(end.UnixMilli())
		}
		out = append(out, item)
	}
	sort.SliceStable(out, func(i, j int) bool { return deref64(out[i].StartDateTime) > deref64(out[j].StartDateTime) })
	return out
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// executorDPUs is an executor's size in DPUs: its cores over the cores a DPU stands for
// (at least 1; the driver is the coordinator's one DPU).
func (s *Service) executorDPUs(e ExecutorInfo) int64 {
	if e.IsDriver || s.cfg.CoresPerDPU <= 0 {
		return 1
	}
	return int64(max(1, e.Cores/s.cfg.CoresPerDPU))
}
