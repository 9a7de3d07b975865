package athena

import (
	"errors"
	"strings"
	"testing"
	"time"

	"glaux/internal/wire"
)

// connectEnv is a runtime env with a workgroup on the Spark Connect engine.
func connectEnv(t *testing.T, cfg func(*Config)) *rtEnv {
	e := newRuntimeEnv(t, func(c *Config) {
		c.TokenSecret, c.PublicURL = []byte("secret"), "https://glaux.example:443"
		if cfg != nil {
			cfg(c)
		}
	})
	wg := sparkConfig()
	wg.EngineVersion = &wire.EngineVersion{SelectedEngineVersion: refOf(EngineVersionSpark35)}
	e.createWorkGroup("connect", wg)
	return e
}

func (e *rtEnv) startConnectSession(ec *wire.EngineConfiguration) (string, string) {
	e.t.Helper()
	if ec == nil {
		ec = &wire.EngineConfiguration{}
	}
	out, err := e.svc.StartSession(e.ctx, valid(e.t, &wire.StartSessionRequest{WorkGroup: refOf("connect"), EngineConfiguration: ec}))
	mustOK(e.t, err)
	return *out.SessionId, *out.State
}

func TestConnectSession(t *testing.T) {
	e := connectEnv(t, nil)
	sid, _ := e.startConnectSession(&wire.EngineConfiguration{Classifications: []wire.Classification{
		{Name: refOf("spark-defaults"), Properties: map[string]string{"spark.sql.shuffle.partitions": "3"}}}})
	r := e.rt.next(t)
	if r.spec.Env[connectTokenEnv] == "" || r.spec.SparkConf["spark.sql.shuffle.partitions"] != "3" {
		t.Fatalf("runner spec: env %v, conf %v", r.spec.Env, r.spec.SparkConf)
	}

	// Not serving until the runner reported its server.
	tok := SignConnectToken(e.svc.cfg.TokenSecret, sid, e.clock.Now().Add(time.Hour))
	_, err := e.svc.ConnectRequest(e.ctx, tok, "")
	if !errors.Is(err, ErrConnectUnavailable) || !strings.Contains(err.Error(), "still starting") {
		t.Fatalf("before ready: %v", err)
	}
	r.emit(RunnerEvent{Type: EventReady, ConnectPort: 40123})
	if st := e.session(sid).State; st != wire.SessionStateIdle {
		t.Fatalf("state %s", st)
	}

	out, err := e.svc.GetSessionEndpoint(e.ctx, valid(t, &wire.GetSessionEndpointRequest{SessionId: &sid}))
	mustOK(t, err)
	if *out.EndpointUrl != "https://glaux.example:443" || out.AuthTokenExpirationTime.Sub(e.clock.Now()) != ConnectTokenTTL {
		t.Fatalf("endpoint %s, expires %v", *out.EndpointUrl, out.AuthTokenExpirationTime.Time)
	}
	target, err := e.svc.ConnectRequest(e.ctx, *out.AuthToken, sid)
	mustOK(t, err)
	if target.Addr != "127.0.0.1:40123" || target.Secret != r.spec.Env[connectTokenEnv] {
		t.Fatalf("target %+v", target)
	}
	// BUSY while requests are in flight, IDLE when the last one ends.
	second, err := e.svc.ConnectRequest(e.ctx, *out.AuthToken, "")
	mustOK(t, err)
	if st := e.session(sid).State; st != wire.SessionStateBusy {
		t.Fatalf("state with requests in flight: %s", st)
	}
	target.Done()
	target.Done() // once only
	if st := e.session(sid).State; st != wire.SessionStateBusy {
		t.Fatalf("state with one request in flight: %s", st)
	}
	second.Done()
	if sess := e.session(sid); sess.State != wire.SessionStateIdle || sess.IdleSince.IsZero() {
		t.Fatalf("state after the requests: %s (idle since %v)", sess.State, sess.IdleSince)
	}

	// Refusals.
	for _, tc := range []struct {
		token, pinned string
		want          error
		msg           string
	}{
		{"", "", ErrConnectUnauthenticated, "no x-aws-proxy-auth token"},
		{"garbage", "", ErrConnectUnauthenticated, "not valid"},
		{SignConnectToken(e.svc.cfg.TokenSecret, sid, e.clock.Now()), "", ErrConnectUnauthenticated, "expired"},
		{SignNotebookToken(e.svc.cfg.TokenSecret, NotebookToken{SessionID: sid, Expires: e.clock.Now().Add(time.Hour).Unix()}), "", ErrConnectUnauthenticated, "not valid"},
		{*out.AuthToken, "other", ErrConnectDenied, "not session other"},
	} {
		if _, err := e.svc.ConnectRequest(e.ctx, tc.token, tc.pinned); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ConnectRequest(%q, %q) = %v, want %v with %q", tc.token, tc.pinned, err, tc.want, tc.msg)
		}
	}

	// Calculations are refused; the session ends as any other.
	_, _, err = e.submit(sid, "1")
	wantErr(t, err, CodeInvalidRequest, "Calculations are not supported on Apache Spark version 3.5")
	_, err = e.svc.TerminateSession(e.ctx, &wire.TerminateSessionRequest{SessionId: &sid})
	mustOK(t, err)
	r.waitExited(t)
	_, err = e.svc.ConnectRequest(e.ctx, *out.AuthToken, "")
	if !errors.Is(err, ErrConnectUnavailable) || !strings.Contains(err.Error(), "TERMINATED") {
		t.Fatalf("after terminate: %v", err)
	}
	_, err = e.svc.GetSessionEndpoint(e.ctx, valid(t, &wire.GetSessionEndpointRequest{SessionId: &sid}))
	wantErr(t, err, CodeInvalidRequest, "TERMINATED state")
}

func TestGetSessionEndpointRefusals(t *testing.T) {
	e := connectEnv(t, nil)
	_, err := e.svc.GetSessionEndpoint(e.ctx, valid(t, &wire.GetSessionEndpointRequest{SessionId: refOf("nope")}))
	wantErr(t, err, CodeResourceNotFound, "Session nope is not found")
	sid, _ := e.startSession(nil) // PySpark engine version 3
	e.rt.next(t).ready()
	_, err = e.svc.GetSessionEndpoint(e.ctx, valid(t, &wire.GetSessionEndpointRequest{SessionId: &sid}))
	wantErr(t, err, CodeInvalidRequest, "has no Spark Connect endpoint")

	for _, tc := range []struct {
		ec  *wire.EngineConfiguration
		nb  *string
		msg string
	}{
		{&wire.EngineConfiguration{SparkProperties: map[string]string{"spark.x": "1"}}, nil, "SparkProperties is not supported"},
		{&wire.EngineConfiguration{Classifications: []wire.Classification{{Name: refOf("hive-site")}}}, nil, `"hive-site" is not supported`},
		{&wire.EngineConfiguration{Classifications: []wire.Classification{{Name: refOf("spark-defaults")}, {Name: refOf("spark-defaults")}}}, nil, "more than once"},
		{&wire.EngineConfiguration{Classifications: []wire.Classification{{Name: refOf("spark-defaults"), Properties: map[string]string{"x": "1"}}}}, nil, `key "x" is not allowed`},
		{&wire.EngineConfiguration{}, refOf("Athena notebook version 1"), "Notebooks are not supported"},
	} {
		_, err := e.svc.StartSession(e.ctx, valid(t, &wire.StartSessionRequest{WorkGroup: refOf("connect"), EngineConfiguration: tc.ec, NotebookVersion: tc.nb}))
		wantErr(t, err, CodeInvalidRequest, tc.msg)
	}

	// A PySpark 3 workgroup cannot move to the Connect engine, nor back.
	_, err = e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("spark"), ConfigurationUpdates: &wire.WorkGroupConfigurationUpdates{
		EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf(EngineVersionSpark35)}}}))
	wantErr(t, err, CodeInvalidRequest, "cannot be upgraded between Spark engines")
	_, err = e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("connect"), ConfigurationUpdates: &wire.WorkGroupConfigurationUpdates{
		EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf(EngineVersionSpark3)}}}))
	wantErr(t, err, CodeInvalidRequest, "cannot be upgraded between Spark engines")
	_, err = e.svc.CreateNotebook(e.ctx, valid(t, &wire.CreateNotebookInput{WorkGroup: refOf("connect"), Name: refOf("nb")}))
	wantErr(t, err, CodeInvalidRequest, "Notebooks are not supported on Apache Spark version 3.5")
}

// A warm runner takes a Connect session when it reports its server's port when bound; one
// without a server is refused and the session starts cold.
func TestConnectWarmPool(t *testing.T) {
	e := connectEnv(t, func(c *Config) { c.WarmPool = 1 })
	e.svc.StartPool()
	w := e.rt.next(t)
	if w.spec.Env[connectTokenEnv] == "" {
		t.Fatal("the warm runner has no Spark Connect secret")
	}
	w.ready()
	waitPool(t, e.svc, 1)
	w.connectPortOnBind = 40500
	sid, state := e.startConnectSession(nil)
	if state != wire.SessionStateIdle {
		t.Fatalf("warm start answered %s", state)
	}
	target, err := e.svc.ConnectRequest(e.ctx, SignConnectToken(e.svc.cfg.TokenSecret, sid, e.clock.Now().Add(time.Hour)), "")
	mustOK(t, err)
	if target.Addr != "127.0.0.1:40500" || target.Secret != w.spec.Env[connectTokenEnv] {
		t.Fatalf("target %+v", target)
	}
	target.Done()

	w2 := e.rt.next(t) // the refill
	w2.ready()
	waitPool(t, e.svc, 1)
	sid2, state := e.startConnectSession(nil) // w2 reports no server when bound
	if state != wire.SessionStateCreating {
		t.Fatalf("a warm runner without a server: StartSession answered %s", state)
	}
	cold := e.rt.next(t)
	for strings.HasPrefix(cold.spec.SessionID, "warm-") { // the pool refilling
		cold = e.rt.next(t)
	}
	if cold.spec.SessionID != sid2 || cold.spec.Env[connectTokenEnv] == "" {
		t.Fatalf("cold start spec %+v", cold.spec)
	}
}

func waitPool(t *testing.T, svc *Service, ready int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if r, _ := svc.PoolSize(); r == ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool never had %d ready runners", ready)
		}
	}
}

// A restart of glaux ends a Spark Connect session as any other (its driver is gone): FAILED
// with the restart reason, no endpoint, and its old token refused by the proxy.
func TestConnectSessionAfterRestart(t *testing.T) {
	e := connectEnv(t, nil)
	e.putSession(&Session{ID: "connect-1", WorkGroup: "connect", EngineVersion: EngineVersionSpark35,
		State: wire.SessionStateIdle, StartTime: t0.Add(-time.Hour), DPUs: 1})
	mustOK(t, e.svc.Recover(e.ctx))
	if s := e.session("connect-1"); s.State != wire.SessionStateFailed || s.StateChangeReason != reasonRestarted {
		t.Fatalf("after Recover: %s %q", s.State, s.StateChangeReason)
	}
	sid := "connect-1"
	_, err := e.svc.GetSessionEndpoint(e.ctx, valid(t, &wire.GetSessionEndpointRequest{SessionId: &sid}))
	wantErr(t, err, CodeInvalidRequest, "FAILED state")
	tok := SignConnectToken(e.svc.cfg.TokenSecret, sid, e.clock.Now().Add(time.Hour))
	if _, err := e.svc.ConnectRequest(e.ctx, tok, ""); !errors.Is(err, ErrConnectUnavailable) || !strings.Contains(err.Error(), "FAILED") {
		t.Fatalf("ConnectRequest: %v", err)
	}
	e.rt.none(t)
}

// With a grace, back-to-back Spark Connect calls keep the session BUSY between them (no IDLE
// written and BUSY again per call); it is IDLE once the grace after the last call passed.
func TestConnectIdleGrace(t *testing.T) {
	e := connectEnv(t, func(c *Config) { c.ConnectIdleGrace = 50 * time.Millisecond })
	sid, _ := e.startConnectSession(nil)
	e.rt.next(t).emit(RunnerEvent{Type: EventReady, ConnectPort: 40123})
	tok := SignConnectToken(e.svc.cfg.TokenSecret, sid, e.clock.Now().Add(time.Hour))
	for i := range 20 {
		target, err := e.svc.ConnectRequest(e.ctx, tok, "")
		mustOK(t, err)
		if st := e.session(sid).State; st != wire.SessionStateBusy {
			t.Fatalf("call %d: state %s", i, st)
		}
		target.Done()
		if st := e.session(sid).State; st != wire.SessionStateBusy {
			t.Fatalf("right after call %d: state %s, want BUSY within the grace", i, st)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.session(sid).State != wire.SessionStateIdle {
		if time.Now().After(deadline) {
			t.Fatalf("still %s after the grace", e.session(sid).State)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if e.session(sid).IdleSince.IsZero() {
		t.Fatal("IDLE without IdleSince")
	}
}
