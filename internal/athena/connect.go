// Spark Connect sessions (engine "Apache Spark version 3.5"): their endpoint and token, and
// what the gRPC proxy (internal/connect) asks of the domain. docs/connect.md.
package athena

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"glaux/internal/wire"
)

// ConnectTokenTTL is how long a GetSessionEndpoint token is valid; clients call
// GetSessionEndpoint again for a fresh one (dbt-athena refreshes it before it expires).
const ConnectTokenTTL = time.Hour

// connectTokenEnv carries a runner's Spark Connect secret (the bearer token its server
// requires, known only to glaux) into the runner.
const connectTokenEnv = "GLAUX_CONNECT_TOKEN"

// connectKey is the key Connect tokens are signed with: derived from the installation's
// secret, so a notebook token is never a Connect token nor the other way round.
func connectKey(secret []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("glaux spark connect token v1"))
	return mac.Sum(nil)
}

// SignConnectToken makes the token GetSessionEndpoint hands out (tests make expired ones).
func SignConnectToken(secret []byte, sessionID string, expires time.Time) string {
	return SignNotebookToken(connectKey(secret), NotebookToken{SessionID: sessionID, Expires: expires.Unix()})
}

// newConnectSecret is a fresh secret for one runner's Spark Connect server.
func newConnectSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

const classificationSparkDefaults = "spark-defaults"

// checkConnectEngineConfiguration applies the rules of the Spark Connect engine: no
// notebooks, Spark properties only as the spark-defaults classification.
func checkConnectEngineConfiguration(ec *wire.EngineConfiguration, notebookVersion *string) error {
	if notebookVersion != nil || ec.AdditionalConfigs["NotebookId"] != "" {
		return invalid("Notebooks are not supported on %s: its sessions run code over Spark Connect (GetSessionEndpoint). Leave NotebookVersion and AdditionalConfigs.NotebookId unset.", EngineVersionSpark35)
	}
	if len(ec.SparkProperties) > 0 {
		return invalid("SparkProperties is not supported on %s: pass Spark properties as EngineConfiguration.Classifications [{Name: %q, Properties: {...}}].", EngineVersionSpark35, classificationSparkDefaults)
	}
	return nil
}

// checkClassifications accepts only the classification glaux applies, spark-defaults, once.
func checkClassifications(list []wire.Classification) error {
	seen := false
	for i, c := range list {
		if valOf(c.Name) != classificationSparkDefaults {
			return invalid("EngineConfiguration.Classifications[%d].Name %q is not supported: the supported classification is %q.", i, valOf(c.Name), classificationSparkDefaults)
		}
		if seen {
			return invalid("EngineConfiguration.Classifications names %q more than once.", classificationSparkDefaults)
		}
		seen = true
	}
	return nil
}

// GetSessionEndpoint returns where a Spark Connect client reaches an active session of the
// Spark Connect engine (glaux's own listener) and the token it sends in x-aws-proxy-auth.
func (s *Service) GetSessionEndpoint(ctx context.Context, in *wire.GetSessionEndpointRequest) (*wire.GetSessionEndpointResponse, error) {
	sess, err := s.sessionOrNotFound(ctx, *in.SessionId)
	if err != nil {
		return nil, err
	}
	if !isConnectEngine(sess.EngineVersion) {
		return nil, invalid("Session %s runs %s, which has no Spark Connect endpoint: GetSessionEndpoint needs a session of a workgroup whose engine is %s.", sess.ID, sess.EngineVersion, EngineVersionSpark35)
	}
	if !isActiveSession(sess.State) {
		return nil, invalidState("Session %s is in the %s state; an endpoint needs an active session.", sess.ID, sess.State)
	}
	exp := s.now().Add(ConnectTokenTTL).Truncate(time.Second)
	token := SignConnectToken(s.cfg.TokenSecret, sess.ID, exp)
	u := strings.TrimSuffix(s.cfg.PublicURL, "/")
	return &wire.GetSessionEndpointResponse{EndpointUrl: &u, AuthToken: &token, AuthTokenExpirationTime: wire.NewTime(exp)}, nil
}

// sessionOrNotFound loads a session for the operations that list ResourceNotFoundException.
func (s *Service) sessionOrNotFound(ctx context.Context, id string) (*Session, error) {
	var sess *Session
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		sess, err = tx.GetSession(id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, notFound(id, "Session %s is not found.", id)
	}
	return sess, err
}

// Why a Connect request is refused; internal/connect maps them to gRPC status codes.
var (
	ErrConnectUnauthenticated = errors.New("unauthenticated")   // no, a malformed, tampered or expired token
	ErrConnectDenied          = errors.New("permission denied") // a valid token of another session
	ErrConnectUnavailable     = errors.New("session unusable")  // the token's session is not (or no longer) serving
)

// ConnectTarget is the Spark Connect server of one session, for one proxied request.
type ConnectTarget struct {
	SessionID string
	Addr      string // host:port of the session's server, on loopback
	Secret    string // bearer token that server requires
	// Done must be called when the request has ended: the session is BUSY until then.
	Done func()
}

// ConnectRequest admits one Spark Connect request carrying token (x-aws-proxy-auth); pinned,
// when not "", is the session the client says it wants (x-athena-session-id). The session is
// BUSY until the target's Done is called.
func (s *Service) ConnectRequest(ctx context.Context, token, pinned string) (ConnectTarget, error) {
	if token == "" {
		return ConnectTarget{}, fmt.Errorf("%w: the request has no x-aws-proxy-auth token: get one with GetSessionEndpoint", ErrConnectUnauthenticated)
	}
	tok, err := VerifyNotebookToken(connectKey(s.cfg.TokenSecret), token, s.now())
	if errors.Is(err, ErrTokenExpired) {
		return ConnectTarget{}, fmt.Errorf("%w: the x-aws-proxy-auth token of session %s expired at %s: get a new one with GetSessionEndpoint", ErrConnectUnauthenticated, tok.SessionID, time.Unix(tok.Expires, 0).UTC().Format(time.RFC3339))
	}
	if err != nil {
		return ConnectTarget{}, fmt.Errorf("%w: the x-aws-proxy-auth token is not valid", ErrConnectUnauthenticated)
	}
	if pinned != "" && pinned != tok.SessionID {
		return ConnectTarget{}, fmt.Errorf("%w: the x-aws-proxy-auth token is for session %s, not session %s", ErrConnectDenied, tok.SessionID, pinned)
	}
	ls := s.liveSession(tok.SessionID)
	if ls == nil {
		state := "ended"
		if sess, err := s.getSession(ctx, tok.SessionID); err == nil {
			state = sess.State
		}
		return ConnectTarget{}, fmt.Errorf("%w: session %s is %s", ErrConnectUnavailable, tok.SessionID, state)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	switch {
	case ls.terminating:
		return ConnectTarget{}, fmt.Errorf("%w: session %s is terminating", ErrConnectUnavailable, ls.id)
	case !ls.ready || ls.connectPort == 0:
		return ConnectTarget{}, fmt.Errorf("%w: session %s is still starting: wait until GetSessionStatus says IDLE", ErrConnectUnavailable, ls.id)
	}
	ls.connectActive++
	// A call within the grace after the last one: the record still says BUSY.
	pendingIdle := ls.stopConnectIdle()
	if ls.connectActive == 1 && !pendingIdle && !ls.degraded {
		s.updateSession(ctx, ls.id, func(sess *Session) {
			if sess.State == wire.SessionStateIdle {
				sess.State, sess.IdleSince = wire.SessionStateBusy, time.Time{}
			}
		})
	}
	var done bool
	return ConnectTarget{
		SessionID: ls.id, Addr: "127.0.0.1:" + strconv.Itoa(ls.connectPort), Secret: ls.connectSecret,
		Done: func() {
			ls.mu.Lock()
			defer ls.mu.Unlock()
			if done {
				return
			}
			done = true
			ls.connectActive--
			if ls.connectActive > 0 {
				return
			}
			if s.cfg.ConnectIdleGrace <= 0 {
				s.dispatch(context.Background(), ls) // IDLE again once nothing runs
				return
			}
			var t *time.Timer
			t = time.AfterFunc(s.cfg.ConnectIdleGrace, func() {
				ls.mu.Lock()
				defer ls.mu.Unlock()
				if ls.connectIdle != t { // a later call took over
					return
				}
				ls.connectIdle = nil
				s.dispatch(context.Background(), ls)
			})
			ls.connectIdle = t
		},
	}, nil
}

// stopConnectIdle cancels the pending IDLE after the last Spark Connect call, if there is one
// (reporting whether there was); ls.mu is held.
func (ls *liveSession) stopConnectIdle() bool {
	if ls.connectIdle == nil {
		return false
	}
	ls.connectIdle.Stop()
	ls.connectIdle = nil
	return true
}
