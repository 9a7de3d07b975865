package athena

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"glaux/internal/wire"
)

func sharedCatalogConfig(c *Config) {
	c.SparkDefaults = map[string]string{"spark.sql.catalogImplementation": "hive"}
}

// answer writes stdout as the runner does for a finished piece of code, then reports done.
func (r *fakeRunner) answer(t *testing.T, x fakeExecution, stdout, status, ename, evalue string) {
	t.Helper()
	for name, body := range map[string]string{StdoutFile: stdout, StderrFile: "", ResultFile: `{"version":1,"outputs":[]}`} {
		if err := os.WriteFile(filepath.Join(x.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r.emit(RunnerEvent{Type: EventDone, CalculationID: x.id, Status: status, EName: ename, EValue: evalue})
}

func TestSystemNeedsSharedCatalog(t *testing.T) {
	e := newRuntimeEnv(t, nil)
	if _, err := e.svc.RunSystem(e.ctx, "1"); !errors.Is(err, ErrNoSharedCatalog) {
		t.Errorf("RunSystem without a shared catalog: %v", err)
	}
	_, err := e.svc.StartQueryExecution(e.ctx, &wire.StartQueryExecutionInput{QueryString: refOf("SELECT 1")})
	if !errors.Is(err, ErrNoSharedCatalog) {
		t.Errorf("StartQueryExecution without a shared catalog: %v", err)
	}
	e.rt.none(t)
}

// TestSystemSession: one runner, started on first use, runs one piece of code at a time for
// concurrent callers; an exception is the caller's SystemError; a runner that dies fails
// the call under way and the next call starts a new one.
func TestSystemSession(t *testing.T) {
	e := newRuntimeEnv(t, sharedCatalogConfig)
	const n = 8
	var wg sync.WaitGroup
	results := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := e.svc.RunSystem(e.ctx, fmt.Sprintf("code %d", i))
			results[i], errs[i] = string(b), err
		}()
	}
	r := e.rt.next(t)
	if r.spec.SessionID != systemSessionID || r.spec.SparkConf["spark.sql.catalogImplementation"] != "hive" {
		t.Errorf("system runner spec: %s %v", r.spec.SessionID, r.spec.SparkConf)
	}
	r.ready()
	for range n {
		x := r.execution(t)
		r.idle(t) // nothing else is handed over while this one runs
		if strings.HasSuffix(x.code, "3") {
			r.answer(t, x, "", "error", "AnalysisException", "no such table")
		} else {
			r.answer(t, x, "out of "+x.code, "ok", "", "")
		}
	}
	wg.Wait()
	e.rt.none(t)
	for i := range n {
		var se *SystemError
		switch {
		case i == 3:
			if !errors.As(errs[i], &se) || se.EName != "AnalysisException" {
				t.Errorf("call %d: %v; want the AnalysisException", i, errs[i])
			}
		case errs[i] != nil || results[i] != fmt.Sprintf("out of code %d", i):
			t.Errorf("call %d: %q, %v", i, results[i], errs[i])
		}
	}

	// The runner dies mid-call: that call fails, the next one starts another runner.
	done := make(chan error, 1)
	go func() { _, err := e.svc.RunSystem(e.ctx, "doomed"); done <- err }()
	r.execution(t)
	r.exit("signal: killed", true)
	if err := receive(t, done, "the call on a dead runner did not return"); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("call on a dead runner: %v", err)
	}
	go func() { _, err := e.svc.RunSystem(e.ctx, "again"); done <- err }()
	r2 := e.rt.next(t)
	r2.ready()
	r2.answer(t, r2.execution(t), "{}", "ok", "", "")
	if err := receive(t, done, "the call on the new runner did not return"); err != nil {
		t.Errorf("call on the new runner: %v", err)
	}
}

// TestQueryLifecycle: a statement goes QUEUED/RUNNING to SUCCEEDED with its rows, a failed
// one carries Spark's error, a stopped one is interrupted and CANCELLED.
func TestQueryLifecycle(t *testing.T) {
	e := newRuntimeEnv(t, sharedCatalogConfig)
	start := func(q string) string {
		out, err := e.svc.StartQueryExecution(e.ctx, valid(t, &wire.StartQueryExecutionInput{QueryString: refOf(q)}))
		mustOK(t, err)
		return *out.QueryExecutionId
	}
	state := func(id string) *wire.QueryExecution {
		out, err := e.svc.GetQueryExecution(e.ctx, &wire.GetQueryExecutionInput{QueryExecutionId: &id})
		mustOK(t, err)
		return out.QueryExecution
	}
	id := start("SELECT id FROM t")
	r := e.rt.next(t)
	r.ready()
	x := r.execution(t)
	if st := *state(id).Status.State; st != wire.QueryExecutionStateRunning {
		t.Errorf("while it runs: %s", st)
	}
	if _, err := e.svc.GetQueryResults(e.ctx, &wire.GetQueryResultsInput{QueryExecutionId: &id}); err == nil {
		t.Error("GetQueryResults of a running statement succeeded")
	}
	bad := start("SELEC 1") // waits its turn
	if st := *state(bad).Status.State; st != wire.QueryExecutionStateQueued {
		t.Errorf("behind a running statement: %s", st)
	}
	r.answer(t, x, `{"columns":[{"name":"id","type":"bigint","nullable":true}],"rows":[["1"],[null]]}`, "ok", "", "")
	eventually(t, "the statement to succeed", func() bool { return *state(id).Status.State == wire.QueryExecutionStateSucceeded })
	res, err := e.svc.GetQueryResults(e.ctx, &wire.GetQueryResultsInput{QueryExecutionId: &id})
	mustOK(t, err)
	if rows := res.ResultSet.Rows; len(rows) != 3 || *rows[0].Data[0].VarCharValue != "id" || *rows[1].Data[0].VarCharValue != "1" || rows[2].Data[0].VarCharValue != nil {
		t.Errorf("rows: %+v", rows)
	}
	qe := state(id)
	rc, err := e.objs.Get(e.ctx, *qe.ResultConfiguration.OutputLocation)
	mustOK(t, err)
	body, _ := io.ReadAll(rc)
	if got := string(body); got != "\"id\"\n\"1\"\n\n" {
		t.Errorf("result object %q", got)
	}

	r.answer(t, r.execution(t), "", "error", "ParseException", "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'.")
	eventually(t, "the statement to fail", func() bool { return *state(bad).Status.State == wire.QueryExecutionStateFailed })
	if st := state(bad).Status; !strings.Contains(*st.StateChangeReason, "PARSE_SYNTAX_ERROR") || *st.AthenaError.ErrorCategory != 2 {
		t.Errorf("failed statement: %s %+v", *st.StateChangeReason, st.AthenaError)
	}

	long := start("SELECT count(*) FROM range(1000000000000)")
	x = r.execution(t)
	_, err = e.svc.StopQueryExecution(e.ctx, &wire.StopQueryExecutionInput{QueryExecutionId: &long})
	mustOK(t, err)
	eventually(t, "the interrupt", func() bool { return r.interruptCount() == 1 })
	r.answer(t, x, "", "aborted", "KeyboardInterrupt", "")
	eventually(t, "the statement to be cancelled", func() bool { return *state(long).Status.State == wire.QueryExecutionStateCancelled })
	// Stopping a finished statement changes nothing.
	_, err = e.svc.StopQueryExecution(e.ctx, &wire.StopQueryExecutionInput{QueryExecutionId: &id})
	mustOK(t, err)
	if st := *state(id).Status.State; st != wire.QueryExecutionStateSucceeded {
		t.Errorf("a finished statement stopped: %s", st)
	}
}
