package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	glaux "glaux/internal/athena"
	"glaux/internal/testenv"
)

// browserTools finds what the browser tests run: the checkout's root, node with
// web/node_modules/playwright-core (npm ci --prefix web), and Chromium (/usr/bin/chromium
// or $CHROMIUM).
func browserTools(t *testing.T) (root, node, chromium string) {
	t.Helper()
	testenv.Need(t, testenv.Browser)
	root, _ = filepath.Abs("../..")
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, testenv.Browser, "node is not installed: the browser tests need Node.js")
	}
	if _, err := os.Stat(filepath.Join(root, "web/node_modules/playwright-core")); err != nil {
		testenv.Missing(t, testenv.Browser, "web/node_modules/playwright-core is missing: run `npm ci --prefix web`")
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		testenv.Missing(t, testenv.Browser, "Chromium is not at %s: `apt-get install -y chromium`, or set CHROMIUM", chromium)
	}
	return root, node, chromium
}

// TestDashboardInBrowser opens the shared session's Spark UI in headless Chromium through
// GetResourceDashboard (web/test/dashboard.test.mjs) after a calculation ran a Spark job:
// the Jobs page lists it, the job, executors, stage and SQL pages render, and every request
// the pages make stays under /sparkui/<session id>/. GLAUX_SCREENSHOT=<png> keeps a screenshot.
func TestDashboardInBrowser(t *testing.T) {
	root, node, chromium := browserTools(t)
	s, sid := sharedSpark(t)
	calc := runCalculation(t, s.Client, sid, `print(spark.range(1000).selectExpr("sum(id)").first()[0], sc.parallelize(range(1000), 3).map(lambda x: x * x).sum())`)
	if calc.Status.State != types.CalculationExecutionStateCompleted {
		t.Fatalf("calculation: %s", calc.Status.State)
	}
	u := dashboardURL(t, s.Client, sparkWG, sid)
	p, _ := url.Parse(u)
	entry := s.Endpoint + p.Path + "?token="
	secret := installationSecretOf(t, s.cfg)
	refused, _ := json.Marshal([]string{
		entry + url.QueryEscape(glaux.SignDashboardToken(secret, glaux.NotebookToken{SessionID: sid, Expires: time.Now().Add(-time.Minute).Unix()})), // expired
		entry + url.QueryEscape(tamperToken(t, p.Query().Get("token"))),
	})
	shot := os.Getenv("GLAUX_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "sparkui.png")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "web/test/dashboard.test.mjs")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GLAUX_DASHBOARD_URL="+u, "GLAUX_JOB_TEXT=calculation "+aws.ToString(calc.CalculationExecutionId),
		"GLAUX_REFUSED_URLS="+string(refused), "CHROMIUM="+chromium, "GLAUX_SCREENSHOT="+shot)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
	if !strings.Contains(string(out), "all under "+s.Endpoint+"/sparkui/"+sid+"/") {
		t.Errorf("the browser test did not check the requests' paths")
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
}
