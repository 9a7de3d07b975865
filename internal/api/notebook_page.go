package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"glaux/internal/athena"
	"glaux/internal/wire"
)

// NotebookService is what the notebook page and its kernel channel need from the domain.
type NotebookService interface {
	OpenNotebookSession(ctx context.Context, sessionID, token string) (*athena.NotebookSession, error)
	RefreshNotebookToken(ctx context.Context, sessionID string) (string, time.Time, error)
	ExportNotebook(ctx context.Context, in *wire.ExportNotebookInput) (*wire.ExportNotebookOutput, error)
	UpdateNotebook(ctx context.Context, in *wire.UpdateNotebookInput) (*wire.UpdateNotebookOutput, error)
	GetSessionStatus(ctx context.Context, in *wire.GetSessionStatusRequest) (*wire.GetSessionStatusResponse, error)
	StartCalculationExecution(ctx context.Context, in *wire.StartCalculationExecutionRequest) (*wire.StartCalculationExecutionResponse, error)
	GetCalculationExecution(ctx context.Context, in *wire.GetCalculationExecutionRequest) (*wire.GetCalculationExecutionResponse, error)
	StopCalculationExecution(ctx context.Context, in *wire.StopCalculationExecutionRequest) (*wire.StopCalculationExecutionResponse, error)
	RunningCalculation(sessionID string) string
	CalculationOutput(ctx context.Context, calculationID, name string) ([]byte, error)
}

// tokenCookie carries the presigned token for the page, its API and its WebSocket.
const tokenCookie = "glaux_notebook"

// NotebookHandler serves the notebook page behind CreatePresignedNotebookUrl under
// /notebook/<session id> (see docs/notebook.md). Every request is authorized by the
// session's token: the cookie the page's first request set, or, for programmatic clients,
// ?token= or "Authorization: token <token>".
type NotebookHandler struct {
	svc     NotebookService
	assets  fs.FS
	version string // of the assets, for cache busting
	log     *slog.Logger
	mux     *http.ServeMux
	// PollInterval is how often a running cell's state, progress and output are read.
	PollInterval time.Duration

	ctx    context.Context // ends open kernel channels on Close
	cancel context.CancelFunc
	mu     sync.Mutex
	counts map[string]int // execution count per session
}

// NewNotebookHandler serves the page with the built front end in assets (app.js, app.css).
func NewNotebookHandler(svc NotebookService, assets fs.FS, log *slog.Logger) *NotebookHandler {
	h := &NotebookHandler{svc: svc, assets: assets, log: log, mux: http.NewServeMux(), PollInterval: 150 * time.Millisecond, counts: map[string]int{}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	sum := sha256.New()
	for _, name := range []string{"app.js", "app.css"} {
		b, _ := fs.ReadFile(assets, name)
		sum.Write(b)
	}
	h.version = hex.EncodeToString(sum.Sum(nil))[:12]
	h.mux.HandleFunc("GET /notebook/{session}", h.page)
	h.mux.HandleFunc("GET /notebook/{session}/static/{file}", h.authorized(h.static))
	h.mux.HandleFunc("GET /notebook/{session}/api/notebook", h.authorized(h.getNotebook))
	h.mux.HandleFunc("PUT /notebook/{session}/api/notebook", h.authorized(h.putNotebook))
	h.mux.HandleFunc("POST /notebook/{session}/api/token", h.authorized(h.refreshToken))
	h.mux.HandleFunc("GET /notebook/{session}/api/kernels/{kernel}/channels", h.authorized(h.channels))
	return h
}

// Close ends the open kernel channels (http.Server.Shutdown leaves hijacked connections).
func (h *NotebookHandler) Close() { h.cancel() }

func (h *NotebookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer") // the first URL holds the token
	w.Header().Set("Content-Security-Policy", "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	h.mux.ServeHTTP(w, r)
}

// page answers the presigned URL by setting the token cookie and sending the browser on to
// the clean URL, and the clean URL with the notebook page.
func (h *NotebookHandler) page(w http.ResponseWriter, r *http.Request) {
	sid := r.PathValue("session")
	tok := r.URL.Query().Get("token")
	if tok == "" {
		h.authorized(h.index)(w, r)
		return
	}
	ns, err := h.svc.OpenNotebookSession(r.Context(), sid, tok)
	if err != nil {
		h.forbidden(w, r, err)
		return
	}
	setTokenCookie(w, r, sid, tok, ns.TokenExpires)
	// Not a 3xx: browsers withhold a SameSite=Strict cookie from a redirect that a link on
	// another site started; a navigation the page itself makes is same-site.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pageTemplates.ExecuteTemplate(w, "redirect", notebookPath(sid))
}

func setTokenCookie(w http.ResponseWriter, r *http.Request, sid, tok string, expires time.Time) {
	setSessionCookie(w, r, tokenCookie, notebookPath(sid), tok, max(1, int(time.Until(expires).Seconds())), http.SameSiteStrictMode)
}

// setSessionCookie sets a token cookie on one session's path (maxAge < 0 deletes it).
func setSessionCookie(w http.ResponseWriter, r *http.Request, name, path, tok string, maxAge int, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: tok, Path: path, MaxAge: maxAge, HttpOnly: true,
		SameSite: sameSite, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
	})
}

func notebookPath(sid string) string { return "/notebook/" + url.PathEscape(sid) }

// requestToken is the token a request carries: the cookie, else ?token=, else an
// Authorization header ("token <t>" as Jupyter clients send it, or "Bearer <t>").
func requestToken(r *http.Request) string {
	if c, err := r.Cookie(tokenCookie); err == nil && c.Value != "" {
		return c.Value
	}
	if t := r.URL.Query().Get("token"); t != "" {
		return t
	}
	return authorizationToken(r)
}

// authorizationToken is the token of an "Authorization: token <t>" or "Bearer <t>" header.
func authorizationToken(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	for _, scheme := range []string{"token ", "Bearer "} {
		if t, ok := strings.CutPrefix(auth, scheme); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}

// authorized re-validates the token on every request, and refuses requests that change
// something (or open the WebSocket) from another origin.
func (h *NotebookHandler) authorized(next func(http.ResponseWriter, *http.Request, *athena.NotebookSession)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := requestToken(r)
		if tok == "" {
			h.forbidden(w, r, athena.ErrTokenInvalid)
			return
		}
		ns, err := h.svc.OpenNotebookSession(r.Context(), r.PathValue("session"), tok)
		if err != nil {
			h.forbidden(w, r, err)
			return
		}
		if !sameOrigin(r) {
			h.forbidden(w, r, errCrossOrigin)
			return
		}
		next(w, r, ns)
	}
}

// sameOrigin accepts requests without an Origin (not from a browser script) and those whose
// Origin is this host.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

var errCrossOrigin = errors.New("the request comes from another origin")

// forbidden refuses a request whose token is missing, invalid or expired, or that comes
// from another origin: 403, as a page for the browser's navigations, else as JSON.
func (h *NotebookHandler) forbidden(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusForbidden
	switch {
	case errors.Is(err, athena.ErrTokenInvalid), errors.Is(err, athena.ErrTokenExpired):
	case errors.Is(err, errCrossOrigin):
		h.log.Warn("notebook request from another origin refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
	default:
		h.log.Error("opening a notebook session", "path", r.URL.Path, "err", err)
		status, err = http.StatusInternalServerError, errors.New("the notebook could not be opened")
	}
	w.Header().Set("Cache-Control", "no-store")
	if strings.Contains(r.URL.Path, "/api/") || strings.Contains(r.URL.Path, "/static/") {
		writeJSON(w, status, map[string]string{"message": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	pageTemplates.ExecuteTemplate(w, "forbidden", err.Error())
}

func (h *NotebookHandler) index(w http.ResponseWriter, r *http.Request, ns *athena.NotebookSession) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pageTemplates.ExecuteTemplate(w, "index", map[string]string{
		"Base": notebookPath(ns.SessionID), "Session": ns.SessionID, "Name": ns.NotebookName, "Version": h.version,
	})
}

func (h *NotebookHandler) static(w http.ResponseWriter, r *http.Request, _ *athena.NotebookSession) {
	w.Header().Set("Cache-Control", "private, max-age=86400")
	http.ServeFileFS(w, r, h.assets, r.PathValue("file"))
}

// getNotebook answers the page's first call: the notebook and the session it runs in.
func (h *NotebookHandler) getNotebook(w http.ResponseWriter, r *http.Request, ns *athena.NotebookSession) {
	out, err := h.svc.ExportNotebook(r.Context(), &wire.ExportNotebookInput{NotebookId: &ns.NotebookID})
	if err != nil {
		h.apiError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"sessionId": ns.SessionID, "notebookId": ns.NotebookID, "name": ns.NotebookName,
		"workGroup": ns.WorkGroup, "state": ns.State,
		"tokenExpiresIn": int(time.Until(ns.TokenExpires).Seconds()),
		"notebook":       json.RawMessage(*out.Payload),
	})
}

// putNotebook saves the page's notebook (an ipynb document) with UpdateNotebook.
func (h *NotebookHandler) putNotebook(w http.ResponseWriter, r *http.Request, ns *athena.NotebookSession) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 11<<20))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "A notebook may have at most 10 MiB."})
		return
	}
	payload := string(body)
	_, err = h.svc.UpdateNotebook(r.Context(), &wire.UpdateNotebookInput{
		NotebookId: &ns.NotebookID, SessionId: &ns.SessionID, Payload: &payload, Type: ptrTo(wire.NotebookTypeIpynb),
	})
	if err != nil {
		h.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// refreshToken gives the page, with its still valid cookie, a new cookie with a fresh
// token, while the session is active.
func (h *NotebookHandler) refreshToken(w http.ResponseWriter, r *http.Request, ns *athena.NotebookSession) {
	tok, exp, err := h.svc.RefreshNotebookToken(r.Context(), ns.SessionID)
	if err != nil {
		h.apiError(w, err)
		return
	}
	setTokenCookie(w, r, ns.SessionID, tok, exp)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"expires": exp.Unix(), "expiresIn": int(time.Until(exp).Seconds())})
}

// apiError answers a domain refusal with 400 (or 409 for a session in the wrong state) and
// its message; anything else is logged and answered generically.
func (h *NotebookHandler) apiError(w http.ResponseWriter, err error) {
	var de *athena.Error
	if errors.As(err, &de) && de.Code != athena.CodeInternal {
		status := http.StatusBadRequest
		if de.AthenaErrorCode == athena.ErrCodeInvalidState {
			status = http.StatusConflict
		}
		writeJSON(w, status, map[string]string{"message": de.Message})
		return
	}
	h.log.Error("notebook page", "err", err)
	writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "internal error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func ptrTo[T any](v T) *T { return &v }

var pageTemplates = template.Must(template.New("").Parse(`
{{define "redirect"}}<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={{.}}">
<title>Opening the notebook…</title><p>Opening the notebook… <a href="{{.}}">continue</a></p>{{end}}
{{define "forbidden"}}<!doctype html><html lang="en"><meta charset="utf-8"><title>Notebook link refused</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222}h1{font-size:1.3rem}code{background:#f2f2f2;padding:0 .2em}</style>
<h1>403 — this notebook link cannot be used</h1><p>{{.}}.</p>
<p>Notebook links expire after a few minutes. Ask for a new one with <code>CreatePresignedNotebookUrl</code>
(<code>aws athena create-presigned-notebook-url --session-id …</code>).</p></html>{{end}}
{{define "index"}}<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Name}} — glaux notebook</title>
<link rel="stylesheet" href="{{.Base}}/static/app.css?v={{.Version}}"></head>
<body data-base="{{.Base}}" data-session="{{.Session}}"><noscript>The notebook needs JavaScript.</noscript>
<script src="{{.Base}}/static/app.js?v={{.Version}}"></script></body></html>{{end}}`))
