package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"glaux/internal/athena"
	"glaux/internal/wire"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// fakeNotebooks is the domain as the page sees it: tokens are checked for real.
type fakeNotebooks struct {
	NotebookService // methods a test does not expect panic
	saved           *wire.UpdateNotebookInput
}

func (f *fakeNotebooks) OpenNotebookSession(_ context.Context, sid, token string) (*athena.NotebookSession, error) {
	tok, err := athena.VerifyNotebookToken(testSecret, token, time.Now())
	if err != nil {
		return nil, err
	}
	if tok.SessionID != sid {
		return nil, athena.ErrTokenInvalid
	}
	return &athena.NotebookSession{SessionID: sid, NotebookID: "nb-1", NotebookName: "Trips <2024>", WorkGroup: "wg", State: "IDLE", TokenExpires: time.Unix(tok.Expires, 0)}, nil
}

func (f *fakeNotebooks) RefreshNotebookToken(_ context.Context, sid string) (string, time.Time, error) {
	exp := time.Now().Add(10 * time.Minute)
	return token(sid, exp), exp, nil
}

func (f *fakeNotebooks) ExportNotebook(context.Context, *wire.ExportNotebookInput) (*wire.ExportNotebookOutput, error) {
	return &wire.ExportNotebookOutput{Payload: ptrTo(`{"cells":[],"nbformat":4,"nbformat_minor":5,"metadata":{}}`)}, nil
}

func (f *fakeNotebooks) UpdateNotebook(_ context.Context, in *wire.UpdateNotebookInput) (*wire.UpdateNotebookOutput, error) {
	f.saved = in
	return &wire.UpdateNotebookOutput{}, nil
}

func token(sid string, exp time.Time) string {
	return athena.SignNotebookToken(testSecret, athena.NotebookToken{SessionID: sid, Expires: exp.Unix()})
}

func newTestNotebookHandler() (*NotebookHandler, *fakeNotebooks) {
	f := &fakeNotebooks{}
	assets := fstest.MapFS{"app.js": {Data: []byte("console.log(1)")}, "app.css": {Data: []byte("body{}")}}
	return NewNotebookHandler(f, assets, slog.New(slog.NewTextHandler(io.Discard, nil))), f
}

func do(h http.Handler, method, target, cookie string, edit func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(`{"cells":[],"nbformat":4,"metadata":{}}`))
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: tokenCookie, Value: cookie})
	}
	if edit != nil {
		edit(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPresignedURLSetsCookieAndLeavesTheTokenOut(t *testing.T) {
	h, _ := newTestNotebookHandler()
	tok := token("s1", time.Now().Add(10*time.Minute))
	w := do(h, "GET", "/notebook/s1?token="+tok, "", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `content="0;url=/notebook/s1"`) {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].Value != tok || c[0].Path != "/notebook/s1" || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || c[0].MaxAge < 590 {
		t.Errorf("cookie: %+v", c)
	}
	if w.Header().Get("Referrer-Policy") != "no-referrer" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", w.Header())
	}
	page := do(h, "GET", "/notebook/s1", tok, nil)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `src="/notebook/s1/static/app.js?v=`) ||
		!strings.Contains(page.Body.String(), "Trips &lt;2024&gt;") {
		t.Errorf("page: %d %s", page.Code, page.Body)
	}
	if js := do(h, "GET", "/notebook/s1/static/app.js", tok, nil); js.Code != http.StatusOK || js.Body.String() != "console.log(1)" {
		t.Errorf("asset: %d %s", js.Code, js.Body)
	}
}

func TestNotebookRequestsRefused(t *testing.T) {
	h, _ := newTestNotebookHandler()
	valid := token("s1", time.Now().Add(10*time.Minute))
	p, sig, _ := strings.Cut(valid, ".")
	tokens := map[string]string{
		"none":          "",
		"expired":       token("s1", time.Now().Add(-time.Second)),
		"tampered":      p + "x." + sig,
		"other session": token("s2", time.Now().Add(10*time.Minute)),
	}
	for name, tok := range tokens {
		if w := do(h, "GET", "/notebook/s1?token="+tok, "", nil); tok != "" && (w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0) {
			t.Errorf("%s token in the URL: %d, cookies %v", name, w.Code, w.Result().Cookies())
		}
		for _, target := range []string{"/notebook/s1", "/notebook/s1/static/app.js", "/notebook/s1/api/notebook", "/notebook/s1/api/kernels/s1/channels"} {
			if w := do(h, "GET", target, tok, nil); w.Code != http.StatusForbidden {
				t.Errorf("%s token, %s: %d", name, target, w.Code)
			}
		}
	}
	if w := do(h, "GET", "/notebook/s1", tokens["expired"], nil); !strings.Contains(w.Body.String(), "expired") || !strings.Contains(w.Header().Get("Content-Type"), "text/html") {
		t.Errorf("403 page: %s", w.Body)
	}
	cross := func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }
	for _, req := range [][2]string{{"POST", "/notebook/s1/api/token"}, {"PUT", "/notebook/s1/api/notebook"}, {"GET", "/notebook/s1/api/kernels/s1/channels"}} {
		if w := do(h, req[0], req[1], valid, cross); w.Code != http.StatusForbidden {
			t.Errorf("%s %s from another origin: %d", req[0], req[1], w.Code)
		}
	}
}

func TestTokenRefreshAndSave(t *testing.T) {
	h, f := newTestNotebookHandler()
	tok := token("s1", time.Now().Add(time.Minute))
	sameOrigin := func(r *http.Request) { r.Header.Set("Origin", "http://"+r.Host) }
	w := do(h, "POST", "/notebook/s1/api/token", tok, sameOrigin)
	c := w.Result().Cookies()
	if w.Code != http.StatusOK || len(c) != 1 || c[0].Value == tok || c[0].MaxAge < 590 || !strings.Contains(w.Body.String(), `"expiresIn":`) {
		t.Fatalf("refresh: %d %s %+v", w.Code, w.Body, c)
	}
	if w := do(h, "GET", "/notebook/s1/api/notebook", c[0].Value, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"notebook":{"cells":[]`) {
		t.Errorf("with the new cookie: %d %s", w.Code, w.Body)
	}
	if w := do(h, "PUT", "/notebook/s1/api/notebook", tok, sameOrigin); w.Code != http.StatusOK || f.saved == nil ||
		*f.saved.SessionId != "s1" || *f.saved.NotebookId != "nb-1" || !strings.Contains(*f.saved.Payload, `"nbformat":4`) {
		t.Errorf("save: %d %s %+v", w.Code, w.Body, f.saved)
	}
}

func TestProgressFraction(t *testing.T) {
	for text, want := range map[string]float64{"Stage 3: 140/200 tasks (70%)": 0.7, "Running": -1, "Stage 1: 0/0 tasks": -1} {
		if got := progressFraction("RUNNING", text); got != want {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
	if progressFraction("COMPLETED", "Completed") != 1 {
		t.Error("a completed calculation is done")
	}
}
