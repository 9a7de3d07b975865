package athena

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/url"
	"strings"
	"time"

	"glaux/internal/wire"
)

// GetResourceDashboard: a session's live Spark UI, proxied by glaux under
// /sparkui/<session id>/ (internal/sparkui, docs/dashboard.md). The URL carries a token
// signed like the notebook page's, with a key of its own, so that neither opens the other.

const (
	// DashboardURLTokenTTL is how long the URL GetResourceDashboard returns can be opened.
	DashboardURLTokenTTL = 5 * time.Minute
	// DashboardCookieTTL is how long the cookie the URL leaves in the browser lasts; the
	// proxy renews it while it is used, and it ends with the session anyway.
	DashboardCookieTTL = time.Hour
)

// ErrDashboardGone refuses a dashboard request whose token is good but whose session has
// ended (or whose driver has no Spark UI any more).
var ErrDashboardGone = errors.New("the session has ended: its Spark UI is gone")

// UIRunner is a Runner whose driver serves a Spark UI (internal/runtime's runners do).
type UIRunner interface {
	// UIURL is the driver's Spark UI base URL, "" before Spark is up or with the UI off.
	UIURL() string
}

// DashboardPath is the path under which glaux serves a session's Spark UI.
func DashboardPath(sessionID string) string { return "/sparkui/" + url.PathEscape(sessionID) }

// dashboardKey derives the dashboard's signing key from the installation's token secret.
func dashboardKey(secret []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("glaux spark ui dashboard"))
	return mac.Sum(nil)
}

// SignDashboardToken signs a dashboard token (the notebook token format, the dashboard key).
func SignDashboardToken(secret []byte, tok NotebookToken) string {
	return SignNotebookToken(dashboardKey(secret), tok)
}

// GetResourceDashboard returns the URL of the Spark UI of the active session that
// ResourceARN (arn:aws:athena:<region>:<account>:workgroup/<name>/session/<id>) names.
func (s *Service) GetResourceDashboard(ctx context.Context, in *wire.GetResourceDashboardRequest) (*wire.GetResourceDashboardResponse, error) {
	arn := valOf(in.ResourceARN)
	wg, sid, err := s.sessionOfARN(arn)
	if err != nil {
		return nil, err
	}
	var sess *Session
	err = s.store.View(ctx, func(tx Tx) error {
		var err error
		sess, err = tx.GetSession(sid)
		return err
	})
	if errors.Is(err, ErrNotFound) || (err == nil && sess.WorkGroup != wg) {
		return nil, notFound(arn, "Session %s is not found in WorkGroup %s.", sid, wg)
	}
	if err != nil {
		return nil, err
	}
	if !isActiveSession(sess.State) {
		return nil, notFound(arn, "Session %s is %s: the Spark UI of an ended session is gone.", sid, sess.State)
	}
	if _, err := s.dashboardUpstream(sid); err != nil {
		return nil, err
	}
	token := SignDashboardToken(s.cfg.TokenSecret, NotebookToken{SessionID: sid, Expires: s.now().Add(DashboardURLTokenTTL).Unix()})
	u := strings.TrimSuffix(s.cfg.PublicURL, "/") + DashboardPath(sid) + "/?token=" + url.QueryEscape(token)
	return &wire.GetResourceDashboardResponse{Url: &u}, nil
}

// sessionOfARN parses a session ARN of this server into its workgroup and session id. A
// malformed ARN, or one that is not an Athena session's, is InvalidRequestException; a
// well-formed session ARN of another region or account is ResourceNotFoundException.
func (s *Service) sessionOfARN(arn string) (wg, sid string, err error) {
	const form = "arn:aws:athena:<region>:<account id>:workgroup/<name>/session/<session id>"
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return "", "", invalid("ResourceARN %q is not a valid ARN: expected %s.", arn, form)
	}
	if parts[2] != "athena" {
		return "", "", invalid("ResourceARN %q is not an Athena resource (service %q): expected %s.", arn, parts[2], form)
	}
	res := strings.Split(parts[5], "/")
	if len(res) != 4 || res[0] != "workgroup" || res[1] == "" || res[2] != "session" || res[3] == "" {
		return "", "", invalid("ResourceARN %q is not the ARN of a session: expected %s.", arn, form)
	}
	if parts[1] != "aws" || parts[3] != s.cfg.Region || parts[4] != s.cfg.AccountID {
		return "", "", notFound(arn, "Session %s is not found: this server serves partition aws, region %s, account %s.", res[3], s.cfg.Region, s.cfg.AccountID)
	}
	return res[1], res[3], nil
}

// dashboardUpstream is the Spark UI of a live session's driver. A session that is not (or
// no longer) live is ResourceNotFoundException; one whose Spark is still starting, or
// whose UI is off, is InvalidRequestException.
func (s *Service) dashboardUpstream(sid string) (*url.URL, error) {
	ls := s.liveSession(sid)
	if ls == nil {
		return nil, notFound(sid, "Session %s has no running Spark driver: the Spark UI of an ended session is gone.", sid)
	}
	ls.mu.Lock()
	r, ready, terminating := ls.runner, ls.ready, ls.terminating
	ls.mu.Unlock()
	if terminating {
		return nil, notFound(sid, "Session %s is terminating: its Spark UI is gone.", sid)
	}
	if r == nil || !ready {
		return nil, invalidState("Session %s is still starting; its Spark UI is there once the session is IDLE.", sid)
	}
	ui, ok := r.(UIRunner)
	if !ok || ui.UIURL() == "" {
		return nil, invalid("Session %s has no Spark UI: its driver runs without one (spark.ui.enabled=false, or glaux runs with --fake-spark).", sid)
	}
	u, err := url.Parse(ui.UIURL())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Code: CodeInternal, Message: "session " + sid + ": the driver reported a bad Spark UI URL " + ui.UIURL()}
	}
	return u, nil
}

// Dashboard is an open dashboard: the session and where its driver serves the Spark UI.
type Dashboard struct {
	SessionID    string
	Upstream     *url.URL
	TokenExpires time.Time
}

// OpenDashboard checks a dashboard token for sessionID (its signature, expiry and session)
// and finds the session's Spark UI. Refusals are ErrTokenInvalid, ErrTokenExpired and
// ErrDashboardGone (a good token for a session that has ended).
func (s *Service) OpenDashboard(ctx context.Context, sessionID, token string) (*Dashboard, error) {
	tok, err := VerifyNotebookToken(dashboardKey(s.cfg.TokenSecret), token, s.now())
	if err != nil {
		return nil, err
	}
	if tok.SessionID != sessionID {
		return nil, ErrTokenInvalid
	}
	u, err := s.dashboardUpstream(sessionID)
	var de *Error
	if errors.As(err, &de) && de.Code != CodeInternal {
		return nil, ErrDashboardGone
	}
	if err != nil {
		return nil, err
	}
	return &Dashboard{SessionID: sessionID, Upstream: u, TokenExpires: time.Unix(tok.Expires, 0)}, nil
}

// DashboardCookieToken signs the token the dashboard's cookie carries, valid for
// DashboardCookieTTL.
func (s *Service) DashboardCookieToken(sessionID string) (string, time.Time) {
	exp := s.now().Add(DashboardCookieTTL)
	return SignDashboardToken(s.cfg.TokenSecret, NotebookToken{SessionID: sessionID, Expires: exp.Unix()}), time.Unix(exp.Unix(), 0)
}

// dashboardWorkGroup is the workgroup GetResourceDashboard acts on, for authorization: the
// session's, from its ARN (an ARN that names none is authorized as any workgroup's).
func (s *Service) dashboardWorkGroup(ctx context.Context, in *wire.GetResourceDashboardRequest) (string, bool, error) {
	_, sid, err := s.sessionOfARN(valOf(in.ResourceARN))
	if err != nil {
		return "", false, err
	}
	return s.sessionWorkGroup(ctx, &sid)
}
