// Package sparkui is the read-only reverse proxy in front of a session driver's Spark UI
// (GetResourceDashboard, docs/dashboard.md). The browser only ever talks to glaux: every
// request is under /sparkui/<session id>/ and goes to the driver's UI port, which clients
// never see.
//
// A warm-pool driver starts before it knows its session, so spark.ui.proxyBase cannot carry
// the session's path. Instead, every proxied request carries X-Forwarded-Context: <prefix>,
// which Spark (UIUtils.uiRoot, the header Apache Knox sends) uses as the UI's root for that
// request: the links Spark renders and the uiRoot its JavaScript builds REST calls on
// (/api/v1/..., templates, the executors and stage pages) are already under the prefix.
// What Spark writes without it is rewritten here: root-relative and driver-absolute URLs in
// HTML attributes, CSS url(), the page's setUIRoot call, URL literals scripts fetch without
// uiRoot, and Location headers.
package sparkui

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
)

// Rewriter maps URLs of one driver's Spark UI to glaux's path for it.
type Rewriter struct {
	// Prefix is the path the UI is served under, without a trailing slash
	// ("/sparkui/<session id>").
	Prefix string
	// Upstream is the driver's UI base URL (http://127.0.0.1:4041); URLs on its origin are
	// made relative to Prefix.
	Upstream *url.URL
}

// URL maps one URL as the UI wrote it: a root-relative path, or an absolute URL on the
// driver's origin, goes under Prefix (unless it is there already); anything else (relative
// paths, fragments, data:, another origin's URL) is returned as is.
func (rw Rewriter) URL(s string) string {
	switch {
	case strings.HasPrefix(s, "//"):
		u, err := url.Parse("http:" + s)
		if err != nil || !rw.upstreamHost(u.Host) {
			return s
		}
		return rw.path(u)
	case strings.HasPrefix(s, "/"):
		if s == rw.Prefix || strings.HasPrefix(s, rw.Prefix+"/") || strings.HasPrefix(s, rw.Prefix+"?") {
			return s
		}
		return rw.Prefix + s
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		u, err := url.Parse(s)
		if err != nil || !rw.upstreamHost(u.Host) {
			return s
		}
		return rw.path(u)
	}
	return s
}

// path is an upstream URL's path, query and fragment under Prefix.
func (rw Rewriter) path(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	s := p
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		s += "#" + u.EscapedFragment()
	}
	return rw.URL(s)
}

func (rw Rewriter) upstreamHost(host string) bool {
	return rw.Upstream != nil && strings.EqualFold(host, rw.Upstream.Host)
}

// Location maps a redirect's Location header.
func (rw Rewriter) Location(loc string) string { return rw.URL(loc) }

// attrRE finds URL-bearing attributes. Only a value's start is rewritten, so entities in
// it (&amp; in a query) pass through unchanged.
var attrRE = regexp.MustCompile(`(?i)(\s(?:href|src|action|formaction|poster)\s*=\s*)("[^"]*"|'[^']*')`)

// refreshRE finds <meta http-equiv="refresh" content="N;url=...">.
var refreshRE = regexp.MustCompile(`(?i)(content\s*=\s*["']\s*\d+\s*;\s*url\s*=\s*)([^"'\s>]+)`)

// uiRootRE finds the page's setUIRoot('...') call, which its JavaScript builds URLs on.
var uiRootRE = regexp.MustCompile(`(setUIRoot\(\s*)(["'])([^"']*)(["']\s*\))`)

// cssURLRE finds url(...) in CSS (style sheets and style attributes/elements).
var cssURLRE = regexp.MustCompile(`(url\(\s*)(["']?)([^"')\s]+)(["']?\s*\))`)

// fetchRE finds a root-relative URL literal passed straight to a request call. Spark's
// scripts build URLs on uiRoot (`$.getJSON(uiRoot + "/api/v1/…")`, left alone), but a few
// do not: Spark 4.3's spark-sql-viz.js fetches "/static/sql/spark-sql-viz.css" for the plan
// download.
var fetchRE = regexp.MustCompile("((?:\\bfetch|\\$\\.getJSON|\\$\\.get|\\$\\.ajax|\\bloadScript)\\(\\s*)([\"'`])(/[^\"'`]*)([\"'`])")

// JS rewrites a script: the URL literals of fetchRE.
func (rw Rewriter) JS(body []byte) []byte {
	return fetchRE.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := fetchRE.FindSubmatch(m)
		return concat(sub[1], sub[2], []byte(rw.URL(string(sub[3]))), sub[4])
	})
}

// HTML rewrites a Spark UI page.
func (rw Rewriter) HTML(body []byte) []byte {
	body = attrRE.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := attrRE.FindSubmatch(m)
		q := sub[2][0]
		val := string(sub[2][1 : len(sub[2])-1])
		return concat(sub[1], []byte{q}, []byte(rw.URL(val)), []byte{q})
	})
	body = refreshRE.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := refreshRE.FindSubmatch(m)
		return concat(sub[1], []byte(rw.URL(string(sub[2]))))
	})
	body = uiRootRE.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := uiRootRE.FindSubmatch(m)
		root := string(sub[3])
		if root != rw.Prefix && !strings.HasPrefix(root, rw.Prefix+"/") {
			root = rw.Prefix + root
		}
		return concat(sub[1], sub[2], []byte(root), sub[4])
	})
	return rw.JS(rw.CSS(body)) // style attributes and elements, inline scripts
}

// CSS rewrites url(...) references of a style sheet.
func (rw Rewriter) CSS(body []byte) []byte {
	return cssURLRE.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := cssURLRE.FindSubmatch(m)
		return concat(sub[1], sub[2], []byte(rw.URL(string(sub[3]))), sub[4])
	})
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
