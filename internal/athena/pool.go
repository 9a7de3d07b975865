package athena

import (
	"context"
	"maps"
	"strings"
	"sync"
	"time"

	"glaux/internal/wire"
)

// The warm pool keeps runners with Spark already up in the server's default configuration.
// StartSession takes one when the session's configuration is compatible (the same base
// Spark configuration; its own SparkProperties only ones Spark can change at run time), so
// the session is IDLE at once; anything else starts cold. Pooled runners count toward the
// session and DPU caps: the pool only refills while they leave room.

// identityConf are the base Spark properties that name a runner rather than configure it;
// they may differ between a pooled runner and the session that takes it.
var identityConf = map[string]bool{"spark.app.name": true, "spark.driver.extraJavaOptions": true, "spark.local.dir": true}

// staticSQLConf are spark.sql.* properties that Spark fixes when the session starts.
var staticSQLConf = []string{"spark.sql.warehouse.dir", "spark.sql.extensions", "spark.sql.catalogImplementation",
	"spark.sql.hive.", "spark.sql.queryExecutionListeners", "spark.sql.streaming.streamingQueryListeners",
	"spark.sql.ui.", "spark.sql.cache.serializer", "spark.sql.legacy.sessionInitWithConfigDefaults",
	"spark.sql.sources.disabledJdbcConnProviderList", "spark.sql.event.truncate.length", "spark.sql.debug"}

// runtimeSettable reports whether a session property can be applied to a running Spark.
func runtimeSettable(key string) bool {
	if !strings.HasPrefix(key, "spark.sql.") {
		return false
	}
	for _, p := range staticSQLConf {
		if key == p || (strings.HasSuffix(p, ".") && strings.HasPrefix(key, p)) {
			return false
		}
	}
	return true
}

type pool struct {
	mu       sync.Mutex
	runners  []*warmRunner
	starting int
	closed   bool
	failures int // consecutive runners that died before they were ready
}

type warmRunner struct {
	id     string
	runner Runner
	conf   map[string]string // base Spark configuration it started with
	// connectSecret is the token its Spark Connect server requires: a warm runner starts
	// one, for a session of the Spark Connect engine (connect.go).
	connectSecret string

	mu     sync.Mutex
	ready  bool
	target func(RunnerEvent) // the session's handler once taken
}

// deliver routes a runner's event to its session once taken, else to the pool.
func (s *Service) deliver(w *warmRunner, ev RunnerEvent) {
	w.mu.Lock()
	target := w.target
	if target == nil {
		if ev.Type == EventReady {
			w.ready = true
		}
	}
	w.mu.Unlock()
	if target != nil {
		target(ev)
		return
	}
	switch ev.Type {
	case EventReady:
		s.pool.mu.Lock()
		s.pool.failures = 0
		s.pool.mu.Unlock()
		s.log.Info("warm runner ready", "runner", w.id)
	case EventExited:
		s.pool.mu.Lock()
		for i, r := range s.pool.runners {
			if r == w {
				s.pool.runners = append(s.pool.runners[:i:i], s.pool.runners[i+1:]...)
			}
		}
		if ev.Unexpected {
			s.pool.failures++
		}
		s.pool.mu.Unlock()
		if ev.Unexpected {
			s.log.Warn("warm runner exited", "runner", w.id, "reason", ev.Reason)
		}
		s.removeScratch(s.poolScratch(w.id), ev.Unexpected)
		s.fillPool()
	}
}

// poolBaseSession is the session configuration pooled runners are started with.
func (s *Service) poolBaseConf(id string) map[string]string {
	sess := &Session{ID: id}
	return s.baseSparkConf(sess, s.poolScratch(id))
}

// fillPool starts runners until the pool is full or the caps leave no room.
func (s *Service) fillPool() {
	if s.cfg.WarmPool <= 0 {
		return
	}
	for {
		s.pool.mu.Lock()
		if s.pool.closed || len(s.pool.runners)+s.pool.starting >= s.cfg.WarmPool || s.pool.failures >= 3 {
			if s.pool.failures == 3 {
				s.pool.failures++ // say it once
				s.log.Error("warm pool disabled: three warm runners in a row failed to start")
			}
			s.pool.mu.Unlock()
			return
		}
		s.pool.starting++
		held := len(s.pool.runners) + s.pool.starting
		s.pool.mu.Unlock()
		if !s.roomFor(held) {
			s.pool.mu.Lock()
			s.pool.starting--
			s.pool.mu.Unlock()
			return
		}
		s.startWarm()
	}
}

// roomFor reports whether the active sessions plus n pooled runners fit the caps.
func (s *Service) roomFor(n int) bool {
	if s.cfg.MaxSessions <= 0 && s.cfg.MaxSessionDPUs <= 0 {
		return true
	}
	var active []*Session
	err := s.store.View(context.Background(), func(tx Tx) error {
		var err error
		active, err = tx.ListSessions(SessionQuery{States: activeSessionStates})
		return err
	})
	if err != nil {
		s.log.Error("counting sessions for the warm pool", "err", err)
		return false
	}
	dpus := n
	for _, a := range active {
		dpus += int(a.DPUs)
	}
	return (s.cfg.MaxSessions <= 0 || len(active)+n <= s.cfg.MaxSessions) &&
		(s.cfg.MaxSessionDPUs <= 0 || dpus <= s.cfg.MaxSessionDPUs)
}

func (s *Service) startWarm() {
	id := "warm-" + s.newID()
	w := &warmRunner{id: id, conf: s.poolBaseConf(id), connectSecret: newConnectSecret()}
	spec := RunnerSpec{SessionID: id, EngineVersion: sparkEngineVersion, SparkConf: w.conf, ScratchDir: s.poolScratch(id),
		Env: withEnv(localSparkEnv(w.conf), connectTokenEnv, w.connectSecret)}
	// Events wait until the runner is listed: an exit reported before that would find
	// nothing to remove, and the dead runner would be listed for good. (pool.mu inside w.mu
	// is safe here only because nobody holding pool.mu can reach an unlisted w.)
	w.mu.Lock()
	defer w.mu.Unlock()
	r, err := s.runtime.Start(context.Background(), spec, func(ev RunnerEvent) { s.deliver(w, ev) })
	w.runner = r
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	s.pool.starting--
	if err != nil {
		s.pool.failures++
		s.log.Error("warm runner did not start", "err", err)
		return
	}
	s.pool.runners = append(s.pool.runners, w)
	s.log.Info("warm runner starting", "runner", id, "pid", r.Pid())
}

// takeWarm hands a ready pooled runner whose configuration matches base to target.
func (s *Service) takeWarm(base map[string]string, target func(RunnerEvent)) *warmRunner {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	for i, w := range s.pool.runners {
		w.mu.Lock()
		ok := w.ready && w.target == nil && sameBaseConf(w.conf, base)
		if ok {
			w.target = target
		}
		w.mu.Unlock()
		if ok {
			s.pool.runners = append(s.pool.runners[:i:i], s.pool.runners[i+1:]...)
			return w
		}
	}
	return nil
}

// evictWarm stops one pooled runner to make room for a cold start; reports whether it did.
func (s *Service) evictWarm() bool {
	s.pool.mu.Lock()
	if len(s.pool.runners) == 0 {
		s.pool.mu.Unlock()
		return false
	}
	w := s.pool.runners[0]
	s.pool.runners = s.pool.runners[1:]
	s.pool.mu.Unlock()
	s.stopWarm(w)
	return true
}

// stopWarm terminates a pooled (or refused) runner; its events go nowhere from now on.
func (s *Service) stopWarm(w *warmRunner) {
	w.mu.Lock()
	w.target = func(RunnerEvent) {}
	w.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.runner.Terminate(ctx); err != nil {
			s.log.Warn("stopping warm runner", "runner", w.id, "err", err)
		}
		s.removeScratch(s.poolScratch(w.id), false)
	}()
}

func sameBaseConf(a, b map[string]string) bool {
	strip := func(m map[string]string) map[string]string {
		out := maps.Clone(m)
		for k := range identityConf {
			delete(out, k)
		}
		return out
	}
	return maps.Equal(strip(a), strip(b))
}

// closePool stops every pooled runner (shutdown).
func (s *Service) closePool() {
	s.pool.mu.Lock()
	s.pool.closed = true
	// Runners being started right now are in the list once Start returns.
	for deadline := time.Now().Add(30 * time.Second); s.pool.starting > 0 && time.Now().Before(deadline); {
		s.pool.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		s.pool.mu.Lock()
	}
	list := s.pool.runners
	s.pool.runners = nil
	s.pool.mu.Unlock()
	for _, w := range list {
		s.stopWarm(w)
	}
}

// StartPool fills the warm pool in the background; call once after Recover.
func (s *Service) StartPool() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.fillPool()
	}()
}

// PoolSize is the number of pooled runners (ready or starting); for tests and metrics.
func (s *Service) PoolSize() (ready, total int) {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	for _, w := range s.pool.runners {
		w.mu.Lock()
		if w.ready {
			ready++
		}
		w.mu.Unlock()
	}
	return ready, len(s.pool.runners) + s.pool.starting
}

// bindWarm tries to give a new session a pooled runner. Called from launch with ls.mu held;
// reports whether it did (the session is then IDLE once the runner confirms with "bound").
func (s *Service) bindWarm(ls *liveSession, sess *Session, base map[string]string) bool {
	if s.cfg.WarmPool <= 0 {
		return false
	}
	props := sessionSparkProperties(&sess.EngineConfiguration)
	for k := range props {
		if !runtimeSettable(k) {
			return false
		}
	}
	w := s.takeWarm(base, func(ev RunnerEvent) { s.onEvent(ls, ev) })
	if w == nil {
		return false
	}
	ls.runner, ls.warm, ls.warmScratch = w.runner, w, s.poolScratch(w.id)
	if ls.connect {
		ls.connectSecret = w.connectSecret
	}
	if err := w.runner.Bind(sess.ID, sess.WorkGroup, sess.EngineVersion, props); err != nil {
		s.log.Warn("binding warm runner", "session", sess.ID, "runner", w.id, "err", err)
		ls.runner, ls.warm, ls.warmScratch = nil, nil, ""
		s.stopWarm(w)
		return false
	}
	s.log.Info("session took a warm runner", "session", sess.ID, "runner", w.id, "pid", w.runner.Pid())
	go s.fillPool()
	return true
}

// onBound finishes a warm start: IDLE at once, or, when the runner refused a property,
// a cold start. Called with ls.mu held.
func (s *Service) onBound(ls *liveSession, ev RunnerEvent) {
	defer close(ls.bound)
	if ev.Reason == "" && ls.connect && ev.ConnectPort == 0 {
		ev.Reason = "the runner reported no Spark Connect server"
	}
	if ev.Reason == "" {
		ls.ready, ls.connectPort = true, ev.ConnectPort
		if ls.terminating {
			return
		}
		s.updateSession(context.Background(), ls.id, func(sess *Session) {
			if sess.State == wire.SessionStateCreating {
				sess.State, sess.IdleSince = wire.SessionStateIdle, sess.LastModifiedTime
			}
		})
		s.dispatch(context.Background(), ls)
		return
	}
	s.log.Info("warm runner refused the session's properties; starting cold", "session", ls.id, "reason", ev.Reason)
	w := ls.warm
	ls.runner, ls.warm, ls.warmScratch = nil, nil, ""
	s.stopWarm(w)
	s.startCold(ls)
}
