package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	glaux "glaux/internal/athena"
)

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
	out := runBrowserScript(t, root, node, "web/test/dashboard.test.mjs", 5*time.Minute, "sparkui.png",
		"GLAUX_DASHBOARD_URL="+u, "GLAUX_JOB_TEXT=calculation "+aws.ToString(calc.CalculationExecutionId),
		"GLAUX_REFUSED_URLS="+string(refused), "CHROMIUM="+chromium)
	if !strings.Contains(out, "all under "+s.Endpoint+"/sparkui/"+sid+"/") {
		t.Errorf("the browser test did not check the requests' paths")
	}
}
