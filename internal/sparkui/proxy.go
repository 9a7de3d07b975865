package sparkui

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxRewriteBytes bounds a page or style sheet the proxy reads to rewrite (Spark's largest
// pages, a stage with 100k tasks, stay far below).
const MaxRewriteBytes = 64 << 20

// Proxy forwards GET and HEAD requests to drivers' Spark UIs.
type Proxy struct {
	transport http.RoundTripper
	log       *slog.Logger
}

// New returns a proxy that reaches drivers with its own transport (drivers are on loopback
// or the cluster's network; nothing of the client's connection is reused).
func New(log *slog.Logger) *Proxy {
	t := &http.Transport{
		Proxy:                 nil, // the driver's UI is never behind an HTTP proxy
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second, // a wedged driver does not hold the request forever
	}
	return &Proxy{transport: t, log: log}
}

// ReadOnly reports whether a request is one the proxy forwards: GET or HEAD, and not one of
// the Spark UI's kill endpoints (which Spark serves on GET too when spark.ui.killEnabled).
func ReadOnly(r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return fmt.Errorf("the Spark UI is read-only through glaux: %s is not allowed", r.Method)
	}
	for _, seg := range strings.Split(r.URL.Path, "/") {
		if strings.EqualFold(seg, "kill") {
			return errors.New("the Spark UI is read-only through glaux: jobs and stages cannot be killed from it")
		}
	}
	return nil
}

// Serve proxies r, whose path is rw.Prefix followed by the UI's own path, to rw.Upstream.
// Query parameters named in strip (glaux's token) are not forwarded. The caller has checked
// ReadOnly and the client's access.
func (p *Proxy) Serve(w http.ResponseWriter, r *http.Request, rw Rewriter, strip ...string) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), rw.Prefix)
	if rest == "" {
		rest = "/"
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			out := pr.Out
			u := *rw.Upstream
			base := strings.TrimSuffix(rw.Upstream.EscapedPath(), "/")
			u.RawPath = base + rest
			u.Path, _ = url.PathUnescape(u.RawPath)
			u.RawQuery = pr.In.URL.RawQuery
			if q := pr.In.URL.Query(); hasAny(q, strip) {
				for _, k := range strip {
					q.Del(k)
				}
				u.RawQuery = q.Encode()
			}
			u.Fragment, u.RawFragment = "", ""
			out.URL, out.Host = &u, rw.Upstream.Host
			// Nothing of glaux's own (its cookie, an Authorization header) reaches the driver.
			for _, h := range []string{"Cookie", "Authorization", "Origin", "Referer", "Accept-Encoding"} {
				out.Header.Del(h)
			}
			out.Header.Set("X-Forwarded-Context", rw.Prefix) // Spark's uiRoot for this request
		},
		Transport: p.transport,
		ModifyResponse: func(resp *http.Response) error {
			return rewriteResponse(resp, rw)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Warn("spark ui proxy", "path", r.URL.Path, "upstream", rw.Upstream.Host, "err", err)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "The session's Spark UI did not answer.\n")
		},
	}
	rp.ServeHTTP(w, r)
}

// rewriteResponse keeps a response of the UI under the prefix: its Location, and the URLs
// of an HTML page, a style sheet or a script.
func rewriteResponse(resp *http.Response, rw Rewriter) error {
	if loc := resp.Header.Get("Location"); loc != "" {
		resp.Header.Set("Location", rw.Location(loc))
	}
	resp.Header.Del("Set-Cookie") // the driver's cookies would be glaux's origin's
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var rewrite func([]byte) []byte
	switch ct {
	case "text/html":
		rewrite = rw.HTML
	case "text/css":
		rewrite = rw.CSS
	case "text/javascript", "application/javascript", "application/x-javascript":
		rewrite = rw.JS
	default:
		return nil
	}
	if resp.Request.Method == http.MethodHead || resp.Body == nil || resp.Header.Get("Content-Encoding") != "" {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxRewriteBytes+1))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if len(body) > MaxRewriteBytes {
		return fmt.Errorf("sparkui: a %s response larger than %d bytes", ct, MaxRewriteBytes)
	}
	body = rewrite(body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

func hasAny(q url.Values, keys []string) bool {
	for _, k := range keys {
		if q.Has(k) {
			return true
		}
	}
	return false
}
