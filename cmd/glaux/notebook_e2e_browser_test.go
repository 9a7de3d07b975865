package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// The notebook page in headless Chromium on a real Spark session: web/test/browser.test.mjs
// runs cells, interrupts one and saves; this test prepares the session through the SDK and
// checks afterwards what the SDK sees. Needs node, web/node_modules (npm ci --prefix web) and
// Chromium (/usr/bin/chromium or $CHROMIUM). GLAUX_SCREENSHOT=<png> keeps a screenshot.
func TestNotebookInBrowser(t *testing.T) {
	root, node, chromium := browserTools(t)
	testPython(t)

	cfg := newConfig(t, "")
	s := startServer(t, cfg)
	createSparkWorkGroup(t, s.Client, "browser")
	sid, notebookID := startNotebookSession(t, s, "browser")
	notebookURL, token := presignedURL(t, s, sid)
	base := strings.TrimSuffix(notebookURL, token)
	refused, _ := json.Marshal([]string{
		base + signToken(t, cfg, sid, time.Now().Add(-time.Minute)), // expired
		base + tamperToken(t, token),
	})
	runBrowserScript(t, root, node, "web/test/browser.test.mjs", 10*time.Minute, "notebook.png",
		"GLAUX_NOTEBOOK_URL="+notebookURL, "GLAUX_REFUSED_URLS="+string(refused), "CHROMIUM="+chromium)
	ctx := context.Background()

	// The saved notebook holds the cells and their outputs.
	exp, err := s.Client.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: aws.String(notebookID)})
	if err != nil {
		t.Fatalf("ExportNotebook: %v", err)
	}
	var nb struct {
		NBFormat int `json:"nbformat"`
		Cells    []struct {
			CellType string            `json:"cell_type"`
			Source   []string          `json:"source"`
			Outputs  []json.RawMessage `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(exp.Payload)), &nb); err != nil || nb.NBFormat != 4 || len(nb.Cells) < 6 {
		t.Fatalf("exported notebook (%v): %.400s", err, aws.ToString(exp.Payload))
	}
	cell := func(i int) (string, string) {
		return strings.Join(nb.Cells[i].Source, ""), string(joinRaw(nb.Cells[i].Outputs))
	}
	checks := []struct {
		i                   int
		typ, source, output string
	}{
		{0, "markdown", "# NYC taxi trips", ""},
		{1, "code", "spark.range(5).count()", `"text/plain":"5"`},
		{2, "code", "spark.sql(", "<table"},
		{3, "code", "import matplotlib", `"image/png":"iVBOR`},
		{4, "code", "{}['missing']", `"ename":"KeyError"`},
		{5, "code", "sc.parallelize", `"ename":"KeyboardInterrupt"`},
	}
	for _, c := range checks {
		src, outs := cell(c.i)
		if nb.Cells[c.i].CellType != c.typ || !strings.Contains(src, c.source) || !strings.Contains(outs, c.output) {
			t.Errorf("cell %d: %s %q, outputs %.300s; want %s %q with %q", c.i, nb.Cells[c.i].CellType, src, outs, c.typ, c.source, c.output)
		}
	}

	// Every code cell run was a calculation of the session.
	list, err := s.Client.ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: aws.String(sid)})
	if err != nil {
		t.Fatalf("ListCalculationExecutions: %v", err)
	}
	states := map[types.CalculationExecutionState]int{}
	codes := map[string]bool{}
	for _, c := range list.Calculations {
		states[c.Status.State]++
		code, err := s.Client.GetCalculationExecutionCode(ctx, &athena.GetCalculationExecutionCodeInput{CalculationExecutionId: c.CalculationExecutionId})
		if err == nil {
			codes[aws.ToString(code.CodeBlock)] = true
		}
	}
	if len(list.Calculations) != 5 || states[types.CalculationExecutionStateCompleted] != 3 || states[types.CalculationExecutionStateFailed] != 1 || states[types.CalculationExecutionStateCanceled] != 1 {
		t.Errorf("calculations by state: %v (of %d)", states, len(list.Calculations))
	}
	if !codes["spark.range(5).count()"] {
		t.Errorf("no calculation ran spark.range(5).count(): %v", codes)
	}
}

// joinRaw is the outputs as compact JSON, one after the other.
func joinRaw(parts []json.RawMessage) []byte {
	var out bytes.Buffer
	for _, p := range parts {
		json.Compact(&out, p)
	}
	return out.Bytes()
}
