package athena

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"glaux/internal/wire"
)

// UIURL makes the fake runners serve a Spark UI, as internal/runtime's do (the ui_url of
// their ready event); the domain only hands it to the proxy.
func (r *fakeRunner) UIURL() string { return "http://127.0.0.1:4041" }

func dashboardEnv(t *testing.T) *rtEnv {
	return newRuntimeEnv(t, func(c *Config) {
		c.PublicURL, c.TokenSecret = "http://127.0.0.1:4477", []byte("installation secret")
	})
}

func wantCode(t *testing.T, err error, code Code, athenaCode string) *Error {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) || de.Code != code || (athenaCode != "" && de.AthenaErrorCode != athenaCode) {
		t.Fatalf("got %v (%#v), want code %d %s", err, de, code, athenaCode)
	}
	return de
}

// TestDashboardARN: what GetResourceDashboard makes of the ARN it is given.
func TestDashboardARN(t *testing.T) {
	e := dashboardEnv(t)
	sid, _ := e.startSession(nil)
	e.rt.next(t).ready()
	const p = "arn:aws:athena:us-east-1:123456789012:"
	for _, tc := range []struct {
		arn  string
		code Code // 0: a URL
	}{
		{p + "workgroup/spark/session/" + sid, 0},
		{"", CodeInvalidRequest},
		{"not-an-arn", CodeInvalidRequest},
		{"arn:aws:athena:us-east-1:123456789012", CodeInvalidRequest},
		{"arn:aws:s3:::bucket/key", CodeInvalidRequest},
		{"arn:aws:glue:us-east-1:123456789012:workgroup/spark/session/" + sid, CodeInvalidRequest},
		{p + "workgroup/spark", CodeInvalidRequest},
		{p + "session/" + sid, CodeInvalidRequest},
		{p + "workgroup/spark/session/", CodeInvalidRequest},
		{p + "workgroup//session/" + sid, CodeInvalidRequest},
		{p + "workgroup/spark/calculation/" + sid, CodeInvalidRequest},
		{p + "workgroup/spark/session/" + sid + "/x", CodeInvalidRequest},
		{p + "workgroup/spark/session/nope", CodeResourceNotFound},
		{p + "workgroup/primary/session/" + sid, CodeResourceNotFound}, // not its workgroup
		{"arn:aws:athena:eu-west-1:123456789012:workgroup/spark/session/" + sid, CodeResourceNotFound},
		{"arn:aws:athena:us-east-1:999999999999:workgroup/spark/session/" + sid, CodeResourceNotFound},
		{"arn:aws-cn:athena:us-east-1:123456789012:workgroup/spark/session/" + sid, CodeResourceNotFound},
	} {
		out, err := e.svc.GetResourceDashboard(e.ctx, &wire.GetResourceDashboardRequest{ResourceARN: refOf(tc.arn)})
		if tc.code == 0 {
			mustOK(t, err)
			if !strings.HasPrefix(*out.Url, "http://127.0.0.1:4477/sparkui/"+sid+"/?token=") {
				t.Errorf("%s: Url %s", tc.arn, *out.Url)
			}
			continue
		}
		de := wantCode(t, err, tc.code, "")
		if tc.code == CodeResourceNotFound && de.ResourceName != tc.arn {
			t.Errorf("%s: ResourceName %q", tc.arn, de.ResourceName)
		}
	}
	// Authorization: the session's own workgroup, whatever the ARN says.
	const wg = p + "workgroup/"
	for arn, want := range map[string]string{
		p + "workgroup/spark/session/" + sid:   wg + "spark",
		p + "workgroup/primary/session/" + sid: wg + "spark",
		p + "workgroup/spark/session/nope":     wg + "*",
	} {
		got, err := e.svc.ResourceARN(e.ctx, &wire.GetResourceDashboardRequest{ResourceARN: refOf(arn)})
		mustOK(t, err)
		if got != want {
			t.Errorf("ResourceARN(%s) = %s, want %s", arn, got, want)
		}
	}
	_, err := e.svc.ResourceARN(e.ctx, &wire.GetResourceDashboardRequest{ResourceARN: refOf("not-an-arn")})
	wantCode(t, err, CodeInvalidRequest, ErrCodeInvalidInput)
}

// TestDashboardLifecycle: a session's dashboard from start to end, and its tokens.
func TestDashboardLifecycle(t *testing.T) {
	e := dashboardEnv(t)
	sid, _ := e.startSession(nil)
	r := e.rt.next(t)
	in := &wire.GetResourceDashboardRequest{ResourceARN: refOf(e.svc.sessionARN("spark", sid))}

	_, err := e.svc.GetResourceDashboard(e.ctx, in)
	wantCode(t, err, CodeInvalidRequest, ErrCodeInvalidState) // Spark is still starting

	r.ready()
	eventually(t, "the session is IDLE", func() bool { return e.session(sid).State == wire.SessionStateIdle })
	out, err := e.svc.GetResourceDashboard(e.ctx, in)
	mustOK(t, err)
	u, _ := url.Parse(*out.Url)
	tok := u.Query().Get("token")
	d, err := e.svc.OpenDashboard(e.ctx, sid, tok)
	mustOK(t, err)
	if d.Upstream.String() != "http://127.0.0.1:4041" || !d.TokenExpires.Equal(t0.Add(DashboardURLTokenTTL)) {
		t.Errorf("dashboard %+v", d)
	}
	if _, err := e.svc.OpenDashboard(e.ctx, "another", tok); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("another session's path: %v", err)
	}
	nbTok := SignNotebookToken(e.svc.cfg.TokenSecret, NotebookToken{SessionID: sid, Expires: t0.Add(time.Minute).Unix()})
	if _, err := e.svc.OpenDashboard(e.ctx, sid, nbTok); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("a notebook token: %v", err)
	}
	cookie, exp := e.svc.DashboardCookieToken(sid)
	if !exp.Equal(t0.Add(DashboardCookieTTL)) {
		t.Errorf("cookie expires %v", exp)
	}

	e.clock.Advance(DashboardURLTokenTTL)
	if _, err := e.svc.OpenDashboard(e.ctx, sid, tok); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("the URL's token after %v: %v", DashboardURLTokenTTL, err)
	}
	_, err = e.svc.OpenDashboard(e.ctx, sid, cookie)
	mustOK(t, err)

	_, err = e.svc.TerminateSession(e.ctx, &wire.TerminateSessionRequest{SessionId: &sid})
	mustOK(t, err)
	if _, err := e.svc.OpenDashboard(e.ctx, sid, cookie); !errors.Is(err, ErrDashboardGone) {
		t.Errorf("while terminating: %v", err)
	}
	r.waitExited(t)
	eventually(t, "the session is TERMINATED", func() bool { return e.session(sid).State == wire.SessionStateTerminated })
	_, err = e.svc.GetResourceDashboard(e.ctx, in)
	wantCode(t, err, CodeResourceNotFound, "")
	if _, err := e.svc.OpenDashboard(e.ctx, sid, cookie); !errors.Is(err, ErrDashboardGone) {
		t.Errorf("after the end: %v", err)
	}
}
