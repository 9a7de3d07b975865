package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	glaux "glaux/internal/athena"
)

// sessionARN is the ARN of a session as Athena forms it.
func sessionARN(wg, sid string) string {
	return "arn:aws:athena:us-east-1:123456789012:workgroup/" + wg + "/session/" + sid
}

// dashboardURL asks for a session's Spark UI with GetResourceDashboard.
func dashboardURL(t testing.TB, c *athena.Client, wg, sid string) string {
	t.Helper()
	out, err := c.GetResourceDashboard(context.Background(), &athena.GetResourceDashboardInput{ResourceARN: aws.String(sessionARN(wg, sid))})
	if err != nil {
		t.Fatalf("GetResourceDashboard: %v", err)
	}
	return aws.ToString(out.Url)
}

// get fetches u with client and returns the status and body.
func get(t testing.TB, client *http.Client, method, u string, hdr http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var linkRE = regexp.MustCompile(`(?:href|src)="([^"#]+)"`)

// TestDashboard opens the shared session's Spark UI through GetResourceDashboard, as a
// browser would with a cookie jar: the Jobs page with the calculation's job, its assets
// and the REST API the executors page uses, all under /sparkui/<session id>/; then every
// way in that must be refused.
func TestDashboard(t *testing.T) {
	s, sid := sharedSpark(t)
	ctx := context.Background()
	calc := runCalculation(t, s.Client, sid, `print(spark.range(100).selectExpr("sum(id)").first()[0])`)
	if calc.Status.State != types.CalculationExecutionStateCompleted {
		t.Fatalf("calculation: %s", calc.Status.State)
	}
	u := dashboardURL(t, s.Client, sparkWG, sid)
	prefix := "/sparkui/" + sid
	if !strings.HasPrefix(u, s.Endpoint+prefix+"/?token=") {
		t.Fatalf("Url %q is not glaux's %s%s/?token=…", u, s.Endpoint, prefix)
	}

	// The entry: the token leaves a cookie for the session's path, and the browser goes on
	// without it in the address, to the Jobs page.
	jar, _ := cookiejar.New(nil)
	var hops []string
	browser := &http.Client{Jar: jar, Timeout: 60 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		hops = append(hops, req.URL.String())
		return nil
	}}
	status, page, _ := get(t, browser, "GET", u, nil)
	if status != 200 || !strings.Contains(page, "Spark Jobs") {
		t.Fatalf("the dashboard URL: %d, %.500s", status, page)
	}
	if len(hops) == 0 || hops[len(hops)-1] != s.Endpoint+prefix+"/jobs/" {
		t.Errorf("redirects %v, want them to end at %s/jobs/", hops, prefix)
	}
	calcID := aws.ToString(calc.CalculationExecutionId)
	if !strings.Contains(page, "calculation "+calcID) {
		t.Errorf("the Jobs page does not list the calculation's job (description \"calculation %s\"): %.2000s", calcID, page)
	}
	ep, _ := url.Parse(s.Endpoint)
	var cookie *http.Cookie
	for _, c := range jar.Cookies(&url.URL{Scheme: "http", Host: ep.Host, Path: prefix + "/"}) {
		if c.Name == "glaux_sparkui" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no glaux_sparkui cookie for the session's path")
	}
	if other := jar.Cookies(&url.URL{Scheme: "http", Host: ep.Host, Path: "/notebook/" + sid}); len(other) != 0 {
		t.Errorf("the cookie is sent outside the session's path: %v", other)
	}

	// Every link and asset of the page is under the prefix, and the assets load.
	links := linkRE.FindAllStringSubmatch(page, -1)
	assets := 0
	for _, m := range links {
		l := m[1]
		if strings.HasPrefix(l, "http") || strings.HasPrefix(l, "//") || (strings.HasPrefix(l, "/") && !strings.HasPrefix(l, prefix+"/")) {
			t.Errorf("link %q leaves %s/", l, prefix)
			continue
		}
		if strings.HasPrefix(l, prefix+"/static/") {
			assets++
			if st, body, h := get(t, browser, "GET", s.Endpoint+l, nil); st != 200 || len(body) == 0 {
				t.Errorf("asset %s: %d (%s)", l, st, h.Get("Content-Type"))
			}
		}
	}
	if len(links) < 10 || assets < 5 {
		t.Errorf("the Jobs page has %d links, %d assets: %.1000s", len(links), assets, page)
	}
	if !strings.Contains(page, "setUIRoot('"+prefix+"')") {
		t.Errorf("the page's uiRoot is not %s (its JavaScript builds REST URLs on it)", prefix)
	}
	// What the executors and stage pages fetch, on that uiRoot.
	status, body, _ := get(t, browser, "GET", s.Endpoint+prefix+"/api/v1/applications", nil)
	var apps []struct{ ID string }
	if status != 200 || json.Unmarshal([]byte(body), &apps) != nil || len(apps) != 1 {
		t.Fatalf("REST applications: %d %.300s", status, body)
	}
	status, body, _ = get(t, browser, "GET", s.Endpoint+prefix+"/api/v1/applications/"+apps[0].ID+"/allexecutors", nil)
	if status != 200 || !strings.Contains(body, `"id" : "driver"`) {
		t.Errorf("REST executors: %d %.300s", status, body)
	}
	for _, p := range []string{"/executors/", "/stages/", "/environment/", "/SQL/"} {
		if st, body, _ := get(t, browser, "GET", s.Endpoint+prefix+p, nil); st != 200 || !strings.Contains(body, "setUIRoot('"+prefix+"')") {
			t.Errorf("%s: %d %.200s", p, st, body)
		}
	}
	// A script that fetches a root-relative URL without uiRoot (Spark 4.3's plan download)
	// is rewritten to fetch it under the prefix, where it is.
	status, body, _ = get(t, browser, "GET", s.Endpoint+prefix+"/static/sql/spark-sql-viz.js", nil)
	if css := prefix + "/static/sql/spark-sql-viz.css"; status != 200 || !strings.Contains(body, `fetch("`+css+`")`) {
		t.Errorf("spark-sql-viz.js: %d, no fetch(%q)", status, css)
	} else if st, _, _ := get(t, browser, "GET", s.Endpoint+css, nil); st != 200 {
		t.Errorf("%s: %d", css, st)
	}
	// The driver's trailing-slash and root redirects stay on glaux.
	noFollow := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	withCookie := http.Header{"Cookie": {"glaux_sparkui=" + cookie.Value}}
	for path, want := range map[string]string{prefix: prefix + "/", prefix + "/": prefix + "/jobs/", prefix + "/stages": prefix + "/stages/"} {
		st, _, h := get(t, noFollow, "GET", s.Endpoint+path, withCookie)
		if st/100 != 3 || h.Get("Location") != want {
			t.Errorf("GET %s: %d Location %q, want a redirect to %s", path, st, h.Get("Location"), want)
		}
	}

	// Refused: no token, a tampered, an expired or another session's token, a notebook
	// token, a request that is not a read, and the kill links.
	token := mustQuery(t, u, "token")
	secret := installationSecretOf(t, s.cfg)
	refused := map[string]string{
		"no token":         "",
		"tampered":         tamperToken(t, token),
		"expired":          glaux.SignDashboardToken(secret, glaux.NotebookToken{SessionID: sid, Expires: time.Now().Add(-time.Minute).Unix()}),
		"another session":  glaux.SignDashboardToken(secret, glaux.NotebookToken{SessionID: "another", Expires: time.Now().Add(time.Minute).Unix()}),
		"a notebook token": glaux.SignNotebookToken(secret, glaux.NotebookToken{SessionID: sid, Expires: time.Now().Add(time.Minute).Unix()}),
	}
	for name, tok := range refused {
		for _, how := range []string{"query", "cookie"} {
			target, hdr := s.Endpoint+prefix+"/jobs/", http.Header{}
			if how == "query" && tok != "" {
				target += "?token=" + url.QueryEscape(tok)
			} else if tok != "" {
				hdr.Set("Cookie", "glaux_sparkui="+tok)
			}
			if st, body, _ := get(t, noFollow, "GET", target, hdr); st != http.StatusForbidden || strings.Contains(body, "Spark Jobs") {
				t.Errorf("%s (%s): %d, want 403", name, how, st)
			}
		}
	}
	// A programmatic client: the URL's token as a Bearer token, no cookie.
	if st, body, _ := get(t, noFollow, "GET", s.Endpoint+prefix+"/api/v1/applications", http.Header{"Authorization": {"Bearer " + token}}); st != 200 || !strings.Contains(body, apps[0].ID) {
		t.Errorf("REST API with Authorization: Bearer: %d %.200s", st, body)
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		if st, _, h := get(t, noFollow, m, s.Endpoint+prefix+"/jobs/", withCookie); st != http.StatusMethodNotAllowed || h.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d Allow %q, want 405", m, st, h.Get("Allow"))
		}
	}
	if st, _, _ := get(t, noFollow, "GET", s.Endpoint+prefix+"/jobs/job/kill/?id=0", withCookie); st != http.StatusForbidden {
		t.Errorf("the kill link: %d, want 403", st)
	}
	if st, _, _ := get(t, noFollow, "HEAD", s.Endpoint+prefix+"/jobs/", withCookie); st != 200 {
		t.Errorf("HEAD: %d", st)
	}

	// restJson1: GET /resource-dashboard/{ResourceARN}, the ARN one escaped label.
	r := restCall(t, s.Endpoint, "GET", "/resource-dashboard/"+restEscape(sessionARN(sparkWG, sid)), nil, true)
	if got := str(t, restOK(t, r, "GetResourceDashboard (restJson1)"), "Url"); !strings.HasPrefix(got, s.Endpoint+prefix+"/?token=") {
		t.Errorf("restJson1 Url %q", got)
	}

	// An ARN that is not a session's is InvalidRequestException; a session that is not
	// there (unknown, of another workgroup, region or account) is ResourceNotFoundException.
	for _, arn := range []string{
		"not-an-arn", "arn:aws:athena:us-east-1:123456789012", "arn:aws:s3:::bucket/key",
		"arn:aws:athena:us-east-1:123456789012:workgroup/" + sparkWG,
		"arn:aws:athena:us-east-1:123456789012:workgroup/" + sparkWG + "/calculation/" + sid,
		"arn:aws:athena:us-east-1:123456789012:workgroup/" + sparkWG + "/session/",
		"arn:aws:athena:us-east-1:123456789012:session/" + sid,
	} {
		_, err := s.Client.GetResourceDashboard(ctx, &athena.GetResourceDashboardInput{ResourceARN: aws.String(arn)})
		wantInvalid(t, err, "INVALID_INPUT", "ResourceARN")
	}
	for _, arn := range []string{
		sessionARN(sparkWG, "no-such-session"), sessionARN("another-wg", sid),
		strings.Replace(sessionARN(sparkWG, sid), "us-east-1", "eu-west-1", 1),
		strings.Replace(sessionARN(sparkWG, sid), "123456789012", "210987654321", 1),
	} {
		_, err := s.Client.GetResourceDashboard(ctx, &athena.GetResourceDashboardInput{ResourceARN: aws.String(arn)})
		wantNotFound(t, err, arn)
	}
}

// TestDashboardWarmSession: a session that took a warm-pool runner (its driver started
// before the session existed, so nothing of the session is in its Spark configuration) has
// its Spark UI under its own path too; once the session ends, the open UI's cookie opens
// nothing and GetResourceDashboard is ResourceNotFoundException.
func TestDashboardWarmSession(t *testing.T) {
	testPython(t)
	cfg := newConfig(t, "")
	cfg.WarmPool, cfg.MaxSessions = 1, 1 // no refill while the session runs
	s := startServer(t, cfg)
	createSparkWorkGroup(t, s.Client, "warm")
	waitPool(t, s, 1, 3*time.Minute)
	out, err := s.Client.StartSession(context.Background(), &athena.StartSessionInput{WorkGroup: aws.String("warm"),
		EngineConfiguration: &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(2)}})
	if err != nil || out.State != types.SessionStateIdle {
		t.Fatalf("StartSession with a warm runner: %+v %v, want IDLE at once", out, err)
	}
	sid := aws.ToString(out.SessionId)
	u := dashboardURL(t, s.Client, "warm", sid)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 60 * time.Second}
	prefix := "/sparkui/" + sid
	status, page, _ := get(t, browser, "GET", u, nil)
	if status != 200 || !strings.Contains(page, "setUIRoot('"+prefix+"')") || !strings.Contains(page, `href="`+prefix+`/executors/"`) {
		t.Fatalf("the warm session's Jobs page: %d %.1500s", status, page)
	}
	if !strings.Contains(page, "glaux-warm-") {
		t.Errorf("the Jobs page is not the warm runner's application (named before the session): %.800s", page)
	}

	if _, err := s.Client.TerminateSession(context.Background(), &athena.TerminateSessionInput{SessionId: out.SessionId}); err != nil {
		t.Fatal(err)
	}
	waitSession(t, s.Client, sid, time.Minute, types.SessionStateTerminated)
	status, body, _ := get(t, browser, "GET", s.Endpoint+prefix+"/jobs/", nil)
	if status != http.StatusNotFound || !strings.Contains(body, "ended") {
		t.Errorf("the open UI after the session ended: %d %.300s", status, body)
	}
	_, err = s.Client.GetResourceDashboard(context.Background(), &athena.GetResourceDashboardInput{ResourceARN: aws.String(sessionARN("warm", sid))})
	wantNotFound(t, err, sessionARN("warm", sid))
	if nf := (*types.ResourceNotFoundException)(nil); errors.As(err, &nf) && !strings.Contains(nf.ErrorMessage(), "TERMINATED") {
		t.Errorf("message %q does not say the session is TERMINATED", nf.ErrorMessage())
	}
	// A good token of the ended session, in the URL: the same.
	tok := glaux.SignDashboardToken(installationSecretOf(t, s.cfg), glaux.NotebookToken{SessionID: sid, Expires: time.Now().Add(time.Minute).Unix()})
	if st, body, _ := get(t, http.DefaultClient, "GET", s.Endpoint+prefix+"/jobs/?token="+url.QueryEscape(tok), nil); st != http.StatusNotFound || !strings.Contains(body, "ended") {
		t.Errorf("a good token of an ended session: %d %.300s", st, body)
	}
}

func mustQuery(t testing.TB, u, key string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Query().Get(key) == "" {
		t.Fatalf("no %s in %q", key, u)
	}
	return p.Query().Get(key)
}
