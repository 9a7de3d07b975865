package api

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"glaux/internal/athena"
	"glaux/internal/sparkui"
)

// DashboardService is what the Spark UI proxy needs from the domain.
type DashboardService interface {
	OpenDashboard(ctx context.Context, sessionID, token string) (*athena.Dashboard, error)
	DashboardCookieToken(sessionID string) (string, time.Time)
}

// dashboardCookie carries a session's dashboard token, on that session's path only.
const dashboardCookie = "glaux_sparkui"

// DashboardHandler serves the URL GetResourceDashboard returns: a session's live Spark UI
// under /sparkui/<session id>/, read-only, through internal/sparkui (docs/dashboard.md).
// The URL's ?token= opens it: the answer leaves a cookie scoped to the session's path and
// sends the browser on to the same page without the token. Every later request is
// authorized by that cookie, renewed while it is used; programmatic clients may send the
// token as "Authorization: Bearer <t>" instead (no cookie, no redirect).
type DashboardHandler struct {
	svc   DashboardService
	proxy *sparkui.Proxy
	log   *slog.Logger
}

// NewDashboardHandler returns the handler of /sparkui/.
func NewDashboardHandler(svc DashboardService, log *slog.Logger) *DashboardHandler {
	return &DashboardHandler{svc: svc, proxy: sparkui.New(log), log: log}
}

func (h *DashboardHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer") // the first URL holds the token
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/sparkui/")
	seg, _, _ := strings.Cut(rest, "/")
	sid, err := url.PathUnescape(seg)
	if !ok || sid == "" || err != nil {
		h.refuse(w, http.StatusNotFound, "There is no Spark UI at this address")
		return
	}
	if err := sparkui.ReadOnly(r); err != nil {
		status := http.StatusForbidden
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			status = http.StatusMethodNotAllowed
		}
		h.refuse(w, status, err.Error())
		return
	}
	prefix := athena.DashboardPath(sid)
	fromURL := r.URL.Query().Get("token")
	tok, fromCookie := fromURL, false
	if tok == "" {
		tok = authorizationToken(r) // programmatic clients: no cookie, no redirect
	}
	if tok == "" {
		if c, err := r.Cookie(dashboardCookie); err == nil {
			tok, fromCookie = c.Value, true
		}
	}
	if tok == "" {
		h.refuse(w, http.StatusForbidden, athena.ErrTokenInvalid.Error())
		return
	}
	d, err := h.svc.OpenDashboard(r.Context(), sid, tok)
	switch {
	case errors.Is(err, athena.ErrTokenInvalid), errors.Is(err, athena.ErrTokenExpired):
		h.refuse(w, http.StatusForbidden, err.Error())
		return
	case errors.Is(err, athena.ErrDashboardGone):
		setSessionCookie(w, r, dashboardCookie, prefix, "", -1, http.SameSiteLaxMode)
		h.refuse(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		h.log.Error("opening a Spark UI", "path", r.URL.Path, "err", err)
		h.refuse(w, http.StatusInternalServerError, "The Spark UI could not be opened")
		return
	}
	if fromURL != "" || (fromCookie && time.Until(d.TokenExpires) < athena.DashboardCookieTTL/2) {
		ct, exp := h.svc.DashboardCookieToken(sid)
		setSessionCookie(w, r, dashboardCookie, prefix, ct, int(time.Until(exp).Seconds()), http.SameSiteLaxMode)
	}
	if fromURL != "" {
		// On to the same page without the token (out of the history and the address bar).
		q := r.URL.Query()
		q.Del("token")
		to := r.URL.EscapedPath()
		if len(q) > 0 {
			to += "?" + q.Encode()
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	if r.URL.EscapedPath() == prefix {
		http.Redirect(w, r, prefix+"/", http.StatusFound)
		return
	}
	h.proxy.Serve(w, r, sparkui.Rewriter{Prefix: prefix, Upstream: d.Upstream}, "token")
}

// refuse answers with a short page saying why.
func (h *DashboardHandler) refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	dashboardTemplate.Execute(w, map[string]any{"Status": status, "Text": http.StatusText(status), "Message": msg})
}

var dashboardTemplate = template.Must(template.New("").Parse(`<!doctype html><html lang="en"><meta charset="utf-8"><title>Spark UI: {{.Status}}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222}h1{font-size:1.3rem}code{background:#f2f2f2;padding:0 .2em}</style>
<h1>{{.Status}} {{.Text}} — Spark UI</h1><p>{{.Message}}.</p>
<p>Spark UI links expire after a few minutes. Ask for a new one with <code>GetResourceDashboard</code>
(<code>aws athena get-resource-dashboard --resource-arn …</code>) while the session is active.</p></html>`))
