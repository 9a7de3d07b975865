package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"glaux/internal/athena"
)

// fakeDashboards is the domain as the Spark UI proxy sees it: tokens are checked for real
// (the dashboard key), the driver is an httptest server, gone says the session ended.
type fakeDashboards struct {
	upstream *url.URL
	gone     bool
}

func (f *fakeDashboards) OpenDashboard(_ context.Context, sid, tok string) (*athena.Dashboard, error) {
	t, err := athena.VerifyNotebookToken(dashboardTestKey(), tok, time.Now())
	if err != nil {
		return nil, err
	}
	if t.SessionID != sid {
		return nil, athena.ErrTokenInvalid
	}
	if f.gone {
		return nil, athena.ErrDashboardGone
	}
	return &athena.Dashboard{SessionID: sid, Upstream: f.upstream, TokenExpires: time.Unix(t.Expires, 0)}, nil
}

func (f *fakeDashboards) DashboardCookieToken(sid string) (string, time.Time) {
	exp := time.Now().Add(athena.DashboardCookieTTL)
	return dashboardToken(sid, exp), exp
}

// dashboardTestKey signs and checks the fake's tokens (the domain derives its own key).
func dashboardTestKey() []byte { return []byte("dashboard test key") }

func dashboardToken(sid string, exp time.Time) string {
	return athena.SignNotebookToken(dashboardTestKey(), athena.NotebookToken{SessionID: sid, Expires: exp.Unix()})
}

func TestDashboardHandler(t *testing.T) {
	var upstreamPaths []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamPaths = append(upstreamPaths, r.Method+" "+r.URL.RequestURI())
		switch r.URL.Path {
		case "/":
			http.Redirect(w, r, "http://"+r.Host+"/jobs/", http.StatusFound)
		default:
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<a href="/stages/">x</a>`)
		}
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	f := &fakeDashboards{upstream: u}
	h := NewDashboardHandler(f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const sid = "5f0e6b1a-0000-4000-8000-000000000001"
	prefix := "/sparkui/" + sid
	do := func(method, target string, cookie string) *http.Response {
		r := httptest.NewRequest(method, target, nil)
		if cookie != "" {
			r.Header.Set("Cookie", dashboardCookie+"="+cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}
	good := dashboardToken(sid, time.Now().Add(5*time.Minute))

	// The entry: a cookie for the session's path, then the same URL without the token.
	resp := do("GET", prefix+"/?token="+url.QueryEscape(good)+"&x=1", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != prefix+"/?x=1" {
		t.Fatalf("entry: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != dashboardCookie || cookies[0].Path != prefix || !cookies[0].HttpOnly ||
		cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].MaxAge < 3500 || cookies[0].Value == good {
		t.Fatalf("entry cookie: %+v", cookies)
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" || len(upstreamPaths) != 0 {
		t.Errorf("entry: Referrer-Policy %q, upstream saw %v", resp.Header.Get("Referrer-Policy"), upstreamPaths)
	}
	cookie := cookies[0].Value

	// With the cookie: proxied, rewritten, no renewal while it has more than half its life.
	resp = do("GET", prefix+"/", cookie)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != prefix+"/jobs/" || len(resp.Cookies()) != 0 {
		t.Errorf("GET /: %d Location %q cookies %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	resp = do("GET", prefix+"/jobs/", cookie)
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(body) != `<a href="`+prefix+`/stages/">x</a>` {
		t.Errorf("GET /jobs/: %d %s", resp.StatusCode, body)
	}
	// The session's path alone, without its slash.
	if resp = do("GET", prefix, cookie); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != prefix+"/" {
		t.Errorf("GET %s: %d %q", prefix, resp.StatusCode, resp.Header.Get("Location"))
	}
	// A cookie near its end is renewed.
	old := dashboardToken(sid, time.Now().Add(10*time.Minute))
	resp = do("GET", prefix+"/jobs/", old)
	if c := resp.Cookies(); resp.StatusCode != 200 || len(c) != 1 || c[0].Value == old || c[0].MaxAge < 3500 {
		t.Errorf("a cookie with 10 minutes left: %d, cookies %+v", resp.StatusCode, c)
	}

	// A programmatic client: the token in Authorization, no cookie, no redirect, not passed on.
	r := httptest.NewRequest("GET", prefix+"/jobs/", nil)
	r.Header.Set("Authorization", "Bearer "+good)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if resp := w.Result(); resp.StatusCode != 200 || len(resp.Cookies()) != 0 {
		t.Errorf("Authorization: Bearer: %d cookies %v", resp.StatusCode, resp.Cookies())
	}

	for _, tc := range []struct {
		name, method, target, cookie string
		status                       int
	}{
		{"no token", "GET", prefix + "/jobs/", "", 403},
		{"expired cookie", "GET", prefix + "/jobs/", dashboardToken(sid, time.Now().Add(-time.Second)), 403},
		{"another session's cookie", "GET", prefix + "/jobs/", dashboardToken("other", time.Now().Add(time.Minute)), 403},
		{"garbage token", "GET", prefix + "/jobs/?token=abc", "", 403},
		{"a bad token in the URL beats a good cookie", "GET", prefix + "/jobs/?token=abc", cookie, 403},
		{"POST", "POST", prefix + "/jobs/", cookie, 405},
		{"PUT", "PUT", prefix + "/jobs/", cookie, 405},
		{"OPTIONS", "OPTIONS", prefix + "/jobs/", cookie, 405},
		{"kill", "GET", prefix + "/stages/stage/kill/?id=1", cookie, 403},
		{"no session", "GET", "/sparkui/", cookie, 404},
		{"no session, no slash", "GET", "/sparkui//jobs/", cookie, 404},
	} {
		before := len(upstreamPaths)
		resp := do(tc.method, tc.target, tc.cookie)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.status || len(upstreamPaths) != before || !strings.Contains(string(body), "Spark UI") {
			t.Errorf("%s: %d (upstream saw %v), want %d: %.200s", tc.name, resp.StatusCode, upstreamPaths[before:], tc.status, body)
		}
		if tc.status == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: Allow %q", tc.name, resp.Header.Get("Allow"))
		}
	}

	// The session ended: 404, and the cookie is deleted.
	f.gone = true
	resp = do("GET", prefix+"/jobs/", cookie)
	if c := resp.Cookies(); resp.StatusCode != http.StatusNotFound || len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("ended session: %d cookies %+v", resp.StatusCode, c)
	}
	for _, p := range upstreamPaths {
		if strings.Contains(p, "token") {
			t.Errorf("the token reached the driver: %s", p)
		}
	}
}
