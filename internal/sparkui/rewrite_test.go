package sparkui

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const prefix = "/sparkui/0cc5b1d4-5a7c-4f5e-9b0a-1c2d3e4f5a6b"

func testRewriter() Rewriter {
	return Rewriter{Prefix: prefix, Upstream: &url.URL{Scheme: "http", Host: "localhost:4041"}}
}

func TestRewriteURL(t *testing.T) {
	rw := testRewriter()
	for _, tc := range []struct{ in, want string }{
		{"/jobs/", prefix + "/jobs/"},
		{"/", prefix + "/"},
		{"/static/webui.js?id=1", prefix + "/static/webui.js?id=1"},
		{"/api/v1/applications", prefix + "/api/v1/applications"},
		// Already under the prefix (Spark honoured X-Forwarded-Context): unchanged.
		{prefix + "/jobs/job/?id=0", prefix + "/jobs/job/?id=0"},
		{prefix, prefix},
		{prefix + "?a=1", prefix + "?a=1"},
		// A path that only starts like the prefix is not under it.
		{prefix + "x/jobs/", prefix + prefix + "x/jobs/"},
		// The driver's own origin, as Spark's redirects and some links write it.
		{"http://localhost:4041/jobs/", prefix + "/jobs/"},
		{"http://LOCALHOST:4041", prefix + "/"},
		{"http://localhost:4041/stages/stage/?id=1&attempt=0#tasks", prefix + "/stages/stage/?id=1&attempt=0#tasks"},
		{"http://localhost:4041" + prefix + "/jobs/", prefix + "/jobs/"},
		{"//localhost:4041/environment/", prefix + "/environment/"},
		// Everything else stays: relative paths, fragments, other origins, schemes.
		{"jobs/job/?id=1", "jobs/job/?id=1"},
		{"../static/x.css", "../static/x.css"},
		{"#completed", "#completed"},
		{"", ""},
		{"http://localhost:4042/jobs/", "http://localhost:4042/jobs/"},
		{"https://spark.apache.org/docs/latest/", "https://spark.apache.org/docs/latest/"},
		{"//cdn.example.org/x.js", "//cdn.example.org/x.js"},
		{"data:image/png;base64,iVBOR", "data:image/png;base64,iVBOR"},
		{"javascript:void(0)", "javascript:void(0)"},
	} {
		if got := rw.URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRewriteHTML(t *testing.T) {
	rw := testRewriter()
	for _, tc := range []struct{ name, in, want string }{
		{"root-relative href", `<a href="/jobs/">Jobs</a>`, `<a href="` + prefix + `/jobs/">Jobs</a>`},
		{"single quotes", `<script src='/static/webui.js'></script>`, `<script src='` + prefix + `/static/webui.js'></script>`},
		{"spaces around =", `<link rel="stylesheet" href = "/static/webui.css">`, `<link rel="stylesheet" href = "` + prefix + `/static/webui.css">`},
		{"upper case attribute", `<IMG SRC="/static/spark-logo.svg">`, `<IMG SRC="` + prefix + `/static/spark-logo.svg">`},
		{"form action", `<form action="/jobs/" method="get">`, `<form action="` + prefix + `/jobs/" method="get">`},
		{"query with entities", `<a href="/jobs/?&amp;completedJob.sort=Duration#completed">`, `<a href="` + prefix + `/jobs/?&amp;completedJob.sort=Duration#completed">`},
		{"already prefixed", `<a href="` + prefix + `/stages/">`, `<a href="` + prefix + `/stages/">`},
		{"driver absolute", `<a href="http://localhost:4041/executors/">`, `<a href="` + prefix + `/executors/">`},
		{"other origin", `<a href="https://spark.apache.org/">`, `<a href="https://spark.apache.org/">`},
		{"relative", `<a href="job/?id=3">`, `<a href="job/?id=3">`},
		{"not an attribute", `<p>see href="/jobs/" in text</p>`, `<p>see href="` + prefix + `/jobs/" in text</p>`},
		{"data-href untouched", `<tr data-href="/x">`, `<tr data-href="/x">`},
		{"setUIRoot empty", `<script>setUIRoot('')</script>`, `<script>setUIRoot('` + prefix + `')</script>`},
		{"setUIRoot set", `<script nonce="n">setUIRoot("` + prefix + `")</script>`, `<script nonce="n">setUIRoot("` + prefix + `")</script>`},
		{"setUIRoot other base", `setUIRoot('/proxy/app-1')`, `setUIRoot('` + prefix + `/proxy/app-1')`},
		{"meta refresh", `<meta http-equiv="refresh" content="0;url=/jobs/">`, `<meta http-equiv="refresh" content="0;url=` + prefix + `/jobs/">`},
		{"inline style url", `<div style="background:url(/static/a.png)">`, `<div style="background:url(` + prefix + `/static/a.png)">`},
		{"no links", `<p>3 jobs</p>`, `<p>3 jobs</p>`},
		{"inline script fetch", `<script>fetch("/api/v1/version")</script>`, `<script>fetch("` + prefix + `/api/v1/version")</script>`},
	} {
		if got := string(rw.HTML([]byte(tc.in))); got != tc.want {
			t.Errorf("%s: HTML(%s)\n got %s\nwant %s", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestRewriteCSS(t *testing.T) {
	rw := testRewriter()
	for _, tc := range []struct{ in, want string }{
		{`.a{background:url(/static/x.png)}`, `.a{background:url(` + prefix + `/static/x.png)}`},
		{`.a{background:url("/static/x.png")}`, `.a{background:url("` + prefix + `/static/x.png")}`},
		{`.a{background:url( '/static/x.png' )}`, `.a{background:url( '` + prefix + `/static/x.png' )}`},
		{`.a{background:url(x.png)}`, `.a{background:url(x.png)}`},
		{`.a{background:url(data:image/svg+xml;base64,PHN2Zz4=)}`, `.a{background:url(data:image/svg+xml;base64,PHN2Zz4=)}`},
		{`@font-face{src:url("http://localhost:4041/static/f.woff")}`, `@font-face{src:url("` + prefix + `/static/f.woff")}`},
	} {
		if got := string(rw.CSS([]byte(tc.in))); got != tc.want {
			t.Errorf("CSS(%s)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestRewriteJS(t *testing.T) {
	rw := testRewriter()
	for _, tc := range []struct{ in, want string }{
		// Spark 4.3's spark-sql-viz.js, the plan download's style sheet.
		{`css = await fetch("/static/sql/spark-sql-viz.css").then((resp) => resp.text());`,
			`css = await fetch("` + prefix + `/static/sql/spark-sql-viz.css").then((resp) => resp.text());`},
		{`fetch( '/api/v1/applications' )`, `fetch( '` + prefix + `/api/v1/applications' )`},
		{"$.getJSON(`/api/v1/applications`, f)", "$.getJSON(`" + prefix + "/api/v1/applications`, f)"},
		{`$.get("/static/x-template.html", f)`, `$.get("` + prefix + `/static/x-template.html", f)`},
		{`loadScript('/static/d3.min.js')`, `loadScript('` + prefix + `/static/d3.min.js')`},
		// Built on uiRoot (as Spark's scripts mostly are), relative, or already prefixed: left alone.
		{`$.getJSON(uiRoot + "/api/v1/applications", f)`, `$.getJSON(uiRoot + "/api/v1/applications", f)`},
		{`loadScript(uiRoot + '/static/d3.min.js')`, `loadScript(uiRoot + '/static/d3.min.js')`},
		{`fetch("static/x.css")`, `fetch("static/x.css")`},
		{`fetch("` + prefix + `/static/x.css")`, `fetch("` + prefix + `/static/x.css")`},
		{`fetch("https://example.org/x")`, `fetch("https://example.org/x")`},
		// Not a request: path strings in comparisons and concatenations.
		{`return uiRoot + "/api/v1/applications/" + appId + "/allexecutors";`, `return uiRoot + "/api/v1/applications/" + appId + "/allexecutors";`},
		{`var ind = words.indexOf("proxy"); prefetch("/x")`, `var ind = words.indexOf("proxy"); prefetch("/x")`},
	} {
		if got := string(rw.JS([]byte(tc.in))); got != tc.want {
			t.Errorf("JS(%s)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestRewriteLocation(t *testing.T) {
	rw := testRewriter()
	for _, tc := range []struct{ in, want string }{
		{"http://localhost:4041/jobs/", prefix + "/jobs/"}, // Spark's / -> /jobs/
		{"/jobs/", prefix + "/jobs/"},                      // Jetty's trailing slash
		{"http://localhost:4041" + prefix + "/jobs/", prefix + "/jobs/"},
		{"https://example.org/", "https://example.org/"},
	} {
		if got := rw.Location(tc.in); got != tc.want {
			t.Errorf("Location(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReadOnly(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		ok           bool
	}{
		{"GET", prefix + "/jobs/", true},
		{"HEAD", prefix + "/static/webui.js", true},
		{"GET", prefix + "/api/v1/applications", true},
		{"POST", prefix + "/jobs/", false},
		{"PUT", prefix + "/jobs/", false},
		{"DELETE", prefix + "/", false},
		{"GET", prefix + "/jobs/job/kill/?id=1", false},
		{"GET", prefix + "/stages/stage/KILL/?id=1", false},
		{"GET", prefix + "/jobs/killed/", true},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		if err := ReadOnly(r); (err == nil) != tc.ok {
			t.Errorf("%s %s: %v, want ok=%v", tc.method, tc.path, err, tc.ok)
		}
	}
}

// TestProxy runs the proxy against an upstream that answers as Spark's UI does: the
// request it sees, and the response the client gets.
func TestProxy(t *testing.T) {
	var seen *http.Request
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Clone(r.Context())
		switch r.URL.Path {
		case "/":
			http.Redirect(w, r, "http://"+r.Host+"/jobs/", http.StatusFound)
		case "/jobs/":
			w.Header().Set("Content-Type", "text/html;charset=utf-8")
			w.Header().Set("Set-Cookie", "x=1")
			io.WriteString(w, `<a href="/stages/">Stages</a><script>setUIRoot('`+r.Header.Get("X-Forwarded-Context")+`')</script>`)
		case "/static/webui.css":
			w.Header().Set("Content-Type", "text/css")
			io.WriteString(w, `.x{background:url(/static/a.png)}`)
		case "/static/webui.js":
			w.Header().Set("Content-Type", "text/javascript")
			io.WriteString(w, `var a = uiRoot + "/api/v1"; fetch("/static/a.css")`)
		}
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	rw := Rewriter{Prefix: prefix, Upstream: u}
	p := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	get := func(path string, hdr map[string]string) *http.Response {
		r := httptest.NewRequest("GET", path, nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		p.Serve(w, r, rw, "token")
		return w.Result()
	}

	resp := get(prefix+"/", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != prefix+"/jobs/" {
		t.Errorf("GET /: %d Location %q", resp.StatusCode, loc)
	}
	resp = get(prefix+"/jobs/?token=secret&a=1", map[string]string{"Cookie": "glaux_sparkui=secret", "Authorization": "Bearer secret"})
	body, _ := io.ReadAll(resp.Body)
	if want := `<a href="` + prefix + `/stages/">Stages</a><script>setUIRoot('` + prefix + `')</script>`; string(body) != want {
		t.Errorf("jobs page: %s, want %s", body, want)
	}
	if resp.Header.Get("Set-Cookie") != "" || resp.ContentLength != int64(len(body)) {
		t.Errorf("jobs page headers: %v (length %d)", resp.Header, resp.ContentLength)
	}
	if seen.URL.RawQuery != "a=1" || seen.Header.Get("Cookie") != "" || seen.Header.Get("Authorization") != "" || seen.Header.Get("X-Forwarded-Context") != prefix {
		t.Errorf("upstream saw query %q, headers %v", seen.URL.RawQuery, seen.Header)
	}
	resp = get(prefix+"/static/webui.css", nil)
	if body, _ := io.ReadAll(resp.Body); string(body) != `.x{background:url(`+prefix+`/static/a.png)}` {
		t.Errorf("css: %s", body)
	}
	resp = get(prefix+"/static/webui.js", nil)
	if body, _ := io.ReadAll(resp.Body); string(body) != `var a = uiRoot + "/api/v1"; fetch("`+prefix+`/static/a.css")` {
		t.Errorf("js: %s", body)
	}

	up.Close() // a driver that is gone
	resp = get(prefix+"/jobs/", nil)
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "did not answer") {
		t.Errorf("gone upstream: %d %s", resp.StatusCode, body)
	}
}
