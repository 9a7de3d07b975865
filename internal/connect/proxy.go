// Package connect proxies Spark Connect (gRPC over HTTP/2) from glaux's listener to the
// Spark Connect server of a session (engine "Apache Spark version 3.5"). A client sends the
// token of GetSessionEndpoint in the x-aws-proxy-auth header, as with AWS; the proxy checks
// it, forwards the call to the session's server on loopback with that server's own secret as
// the bearer token, and streams the answer back as it comes. Refusals are gRPC statuses:
// UNAUTHENTICATED (no, a malformed, tampered or expired token), PERMISSION_DENIED (a token of
// another session than the x-athena-session-id header names), FAILED_PRECONDITION (the
// token's session is not serving). docs/connect.md.
package connect

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"glaux/internal/athena"
)

// Header names a client sends.
const (
	AuthHeader    = "x-aws-proxy-auth"    // the token of GetSessionEndpoint
	SessionHeader = "x-athena-session-id" // optional: the session the client means
)

// gRPC status codes the proxy answers with.
const (
	codeUnauthenticated    = 16
	codePermissionDenied   = 7
	codeFailedPrecondition = 9
	codeUnavailable        = 14
)

// Sessions is what the proxy asks of the domain (*athena.Service).
type Sessions interface {
	ConnectRequest(ctx context.Context, token, pinned string) (athena.ConnectTarget, error)
}

// IsGRPC tells whether a request is a gRPC call (Content-Type application/grpc...).
func IsGRPC(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return r.ProtoMajor == 2 && (ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+") || strings.HasPrefix(ct, "application/grpc;"))
}

// Proxy is the gRPC handler.
type Proxy struct {
	sessions Sessions
	log      *slog.Logger
	rp       *httputil.ReverseProxy
}

type targetKey struct{}

// New returns the proxy.
func New(sessions Sessions, log *slog.Logger) *Proxy {
	p := &Proxy{sessions: sessions, log: log}
	transport := &http.Transport{
		// The session's server speaks plaintext HTTP/2 (prior knowledge) on loopback.
		Protocols:       new(http.Protocols),
		DialContext:     (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		IdleConnTimeout: 90 * time.Second,
	}
	transport.Protocols.SetUnencryptedHTTP2(true)
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			t := pr.In.Context().Value(targetKey{}).(athena.ConnectTarget)
			pr.SetURL(&url.URL{Scheme: "http", Host: t.Addr})
			pr.Out.Host = t.Addr
			pr.Out.Header.Del(AuthHeader)
			pr.Out.Header.Del(SessionHeader)
			pr.Out.Header.Set("Authorization", "Bearer "+t.Secret)
		},
		Transport:     transport,
		FlushInterval: -1, // every streamed response message goes out at once
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			t := r.Context().Value(targetKey{}).(athena.ConnectTarget)
			if !errors.Is(err, context.Canceled) {
				p.log.Warn("spark connect proxy", "session", t.SessionID, "path", r.URL.Path, "err", err)
			}
			writeStatus(w, codeUnavailable, "the session's Spark Connect server is not reachable: "+err.Error())
		},
	}
	return p
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t, err := p.sessions.ConnectRequest(r.Context(), r.Header.Get(AuthHeader), r.Header.Get(SessionHeader))
	if err != nil {
		code := codeFailedPrecondition
		switch {
		case errors.Is(err, athena.ErrConnectUnauthenticated):
			code = codeUnauthenticated
		case errors.Is(err, athena.ErrConnectDenied):
			code = codePermissionDenied
		case errors.Is(err, athena.ErrConnectUnavailable):
			code = codeFailedPrecondition
		}
		p.log.Debug("spark connect request refused", "path", r.URL.Path, "code", code, "err", err)
		writeStatus(w, code, err.Error())
		return
	}
	defer t.Done()
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, t)))
}

// writeStatus ends a call with a gRPC status and no messages: response headers, then the
// status in the trailers.
func writeStatus(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/grpc")
	h.Set("Trailer", "Grpc-Status, Grpc-Message")
	w.WriteHeader(http.StatusOK)
	h.Set("Grpc-Status", strconv.Itoa(code))
	h.Set("Grpc-Message", percentEncode(msg))
}

// percentEncode encodes a grpc-message value as the gRPC spec says: bytes outside
// printable ASCII, and '%', as %XX.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '%' {
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
