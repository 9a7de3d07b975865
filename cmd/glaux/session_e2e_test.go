package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// fakeServer is a server whose runners skip Spark: for state-machine and validation tests.
func fakeServer(t *testing.T, edit func(*Config)) *testServer {
	t.Helper()
	testPython(t) // the fake runner still needs IPython
	cfg := newConfig(t, "")
	cfg.FakeSpark = true
	if edit != nil {
		edit(cfg)
	}
	return startServer(t, cfg)
}

// apiError is what every typed Athena exception of the SDK implements.
type apiError interface {
	error
	ErrorMessage() string
}

// wantErr fails unless err is (wraps) an E whose message contains msg.
func wantErr[E apiError](t testing.TB, err error, msg string) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("want %T, got %v", e, err)
	}
	if !strings.Contains(e.ErrorMessage(), msg) {
		t.Fatalf("%T message %q does not contain %q", e, e.ErrorMessage(), msg)
	}
	return e
}

// errCheck is one expected typed error, for tables.
type errCheck func(testing.TB, error)

func invalidRequest(msg string) errCheck {
	return func(t testing.TB, err error) { t.Helper(); wantErr[*types.InvalidRequestException](t, err, msg) }
}

func notFound(msg string) errCheck {
	return func(t testing.TB, err error) { t.Helper(); wantErr[*types.ResourceNotFoundException](t, err, msg) }
}

// objectPath is where the local object store keeps s3://bucket/key.
func objectPath(s *testServer, uri string) string {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		s.t.Fatalf("not an s3:// URI: %q", uri)
	}
	return filepath.Join(s.cfg.DataDir, "objects", filepath.FromSlash(rest))
}

// readObject reads a result object straight from the data dir.
func readObject(t testing.TB, s *testServer, uri string) string {
	t.Helper()
	b, err := os.ReadFile(objectPath(s, uri))
	if err != nil {
		t.Fatalf("result object %s: %v", uri, err)
	}
	return string(b)
}

func getSession(t testing.TB, c *athena.Client, id string) *athena.GetSessionOutput {
	t.Helper()
	out, err := c.GetSession(context.Background(), &athena.GetSessionInput{SessionId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	return out
}

func getCalc(t testing.TB, c *athena.Client, id string) *athena.GetCalculationExecutionOutput {
	t.Helper()
	out, err := c.GetCalculationExecution(context.Background(), &athena.GetCalculationExecutionInput{CalculationExecutionId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetCalculationExecution: %v", err)
	}
	return out
}

func startCalc(t testing.TB, c *athena.Client, session, code string) *athena.StartCalculationExecutionOutput {
	t.Helper()
	out, err := c.StartCalculationExecution(context.Background(), &athena.StartCalculationExecutionInput{SessionId: aws.String(session), CodeBlock: aws.String(code)})
	if err != nil {
		t.Fatalf("StartCalculationExecution: %v", err)
	}
	return out
}

// waitCalcState polls until the calculation is in state (failing on another final state).
func waitCalcState(t testing.TB, c *athena.Client, id string, state types.CalculationExecutionState, timeout time.Duration) *athena.GetCalculationExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := getCalc(t, c, id)
		switch out.Status.State {
		case state:
			return out
		case types.CalculationExecutionStateCompleted, types.CalculationExecutionStateFailed, types.CalculationExecutionStateCanceled:
			t.Fatalf("calculation %s ended %s (%s) while waiting for %s", id, out.Status.State, aws.ToString(out.Status.StateChangeReason), state)
		}
		if time.Now().After(deadline) {
			t.Fatalf("calculation %s still %s after %s, want %s", id, out.Status.State, timeout, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantCompleted runs code and returns its stdout, failing unless it COMPLETED.
func wantCompleted(t testing.TB, s *testServer, session, code string) string {
	t.Helper()
	out := runCalculation(t, s.Client, session, code)
	if out.Status.State != types.CalculationExecutionStateCompleted {
		t.Fatalf("calculation %q ended %s: %s\nstderr: %s", code, out.Status.State, aws.ToString(out.Status.StateChangeReason), readObject(t, s, aws.ToString(out.Result.StdErrorS3Uri)))
	}
	return readObject(t, s, *out.Result.StdOutS3Uri)
}

// noRunnerOf fails if any process of the session (runner, JVM) is still alive.
func noRunnerOf(t testing.TB, s *testServer, session string) {
	t.Helper()
	var left []string
	for range 50 { // the runner is reaped before the session is final; its JVM a moment later
		left = runnerProcesses(filepath.Join(s.cfg.DataDir, "scratch", "sessions", session))
		if len(left) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("processes of session %s are still alive: %v", session, left)
}

// TestSessionLifecycle follows one real Spark session from CREATING to TERMINATED, with a
// Spark job running when it is terminated.
func TestSessionLifecycle(t *testing.T) {
	testPython(t)
	t.Parallel()
	cfg := newConfig(t, "")
	cfg.QueueDepth = 1
	s := startServer(t, cfg)
	c, ctx := s.Client, context.Background()
	createSparkWorkGroup(t, c, "lifecycle")
	ec := &types.EngineConfiguration{
		CoordinatorDpuSize: aws.Int32(1), MaxConcurrentDpus: aws.Int32(4), DefaultExecutorDpuSize: aws.Int32(1),
		SparkProperties: map[string]string{"spark.sql.shuffle.partitions": "3"},
	}
	before := time.Now().Add(-time.Second)
	started, err := c.StartSession(ctx, &athena.StartSessionInput{
		WorkGroup: aws.String("lifecycle"), Description: aws.String("lifecycle test"),
		EngineConfiguration: ec, SessionIdleTimeoutInMinutes: aws.Int32(15),
	})
	if err != nil {
		t.Fatalf("StartSession: %v", err)
	}
	id := *started.SessionId
	if started.State != types.SessionStateCreating {
		t.Errorf("StartSession state %s, want CREATING", started.State)
	}
	// Spark takes seconds to start: the session is seen CREATING first, and queues
	// calculations (up to QueueDepth behind the first) to run once it is IDLE.
	if st := waitSession(t, c, id, time.Second, types.SessionStateCreating, types.SessionStateIdle); st.State != types.SessionStateCreating {
		t.Errorf("first status %s, want CREATING", st.State)
	}
	early := []string{
		*startCalc(t, c, id, `print(spark.conf.get("spark.sql.shuffle.partitions"))`).CalculationExecutionId,
		*startCalc(t, c, id, `print("second")`).CalculationExecutionId,
	}
	_, err = c.StartCalculationExecution(ctx, &athena.StartCalculationExecutionInput{SessionId: aws.String(id), CodeBlock: aws.String("1")})
	wantErr[*types.InvalidRequestException](t, err, "CREATING")
	for _, cid := range early {
		if got := getCalc(t, c, cid); got.Status.State != types.CalculationExecutionStateQueued {
			t.Errorf("calculation sent to a CREATING session: %s, want QUEUED", got.Status.State)
		}
	}
	st := waitSession(t, c, id, 3*time.Minute, types.SessionStateIdle, types.SessionStateFailed, types.SessionStateTerminated)
	if st.State != types.SessionStateIdle {
		t.Fatalf("session ended %s: %s", st.State, aws.ToString(st.StateChangeReason))
	}
	if st.IdleSinceDateTime == nil || st.EndDateTime != nil {
		t.Errorf("IDLE status: IdleSince %v, End %v; want IdleSince only", st.IdleSinceDateTime, st.EndDateTime)
	}

	got := getSession(t, c, id)
	if aws.ToString(got.EngineVersion) != "PySpark engine version 3" || aws.ToString(got.WorkGroup) != "lifecycle" || aws.ToString(got.Description) != "lifecycle test" {
		t.Errorf("GetSession: EngineVersion %q WorkGroup %q Description %q", aws.ToString(got.EngineVersion), aws.ToString(got.WorkGroup), aws.ToString(got.Description))
	}
	if !reflect.DeepEqual(got.EngineConfiguration.SparkProperties, ec.SparkProperties) ||
		aws.ToInt32(got.EngineConfiguration.MaxConcurrentDpus) != 4 || aws.ToInt32(got.EngineConfiguration.CoordinatorDpuSize) != 1 ||
		aws.ToInt32(got.EngineConfiguration.DefaultExecutorDpuSize) != 1 {
		t.Errorf("EngineConfiguration not as given: %+v", got.EngineConfiguration)
	}
	sc := got.SessionConfiguration
	if sc == nil || aws.ToString(sc.ExecutionRole) != "arn:aws:iam::123456789012:role/glaux-spark" ||
		aws.ToString(sc.WorkingDirectory) != "s3://results/lifecycle/"+id+"/" || aws.ToInt64(sc.IdleTimeoutSeconds) != 900 {
		t.Errorf("SessionConfiguration: %+v", sc)
	}
	if gs := got.Status; gs.StartDateTime == nil || gs.StartDateTime.Before(before) || gs.StartDateTime.After(time.Now()) ||
		gs.LastModifiedDateTime == nil || gs.LastModifiedDateTime.Before(*gs.StartDateTime) || gs.State != types.SessionStateIdle {
		t.Errorf("Status: %+v", gs)
	}
	if got.Statistics == nil || aws.ToInt64(got.Statistics.DpuExecutionInMillis) <= 0 {
		t.Errorf("Statistics of an active session: %+v", got.Statistics)
	}
	// The early calculations ran in order; the user's SparkProperties reached Spark.
	for i, want := range []string{"3\n", "second\n"} {
		out := waitCalculation(t, c, early[i], time.Minute)
		if out.Status.State != types.CalculationExecutionStateCompleted || readObject(t, s, *out.Result.StdOutS3Uri) != want {
			t.Errorf("calculation %d sent while CREATING: %s %q, want stdout %q", i+1, out.Status.State, aws.ToString(out.Status.StateChangeReason), want)
		}
	}
	waitSession(t, c, id, 10*time.Second, types.SessionStateIdle)

	// A long Spark job makes the session BUSY; terminating the session fails the job.
	calc := startCalc(t, c, id, "import time\nsc.parallelize(range(10000), 1000).map(lambda x: time.sleep(0.1) or x).count()")
	waitCalcState(t, c, *calc.CalculationExecutionId, types.CalculationExecutionStateRunning, 30*time.Second)
	waitSession(t, c, id, 5*time.Second, types.SessionStateBusy)
	time.Sleep(2 * time.Second) // let the job get going
	term, err := c.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(id)})
	if err != nil {
		t.Fatalf("TerminateSession: %v", err)
	}
	if term.State != types.SessionStateTerminating {
		t.Errorf("TerminateSession state %s, want TERMINATING", term.State)
	}
	if st := waitSession(t, c, id, 5*time.Second, types.SessionStateTerminating, types.SessionStateTerminated); st.State == "" {
		t.Error("no state after TerminateSession")
	}
	t0 := time.Now()
	st = waitSession(t, c, id, 30*time.Second, types.SessionStateTerminated, types.SessionStateFailed)
	t.Logf("TERMINATING -> %s in %s", st.State, time.Since(t0).Round(100*time.Millisecond))
	if st.State != types.SessionStateTerminated || aws.ToString(st.StateChangeReason) != "Session was terminated per request." {
		t.Errorf("after TerminateSession: %s %q", st.State, aws.ToString(st.StateChangeReason))
	}
	if st.EndDateTime == nil || st.IdleSinceDateTime != nil {
		t.Errorf("TERMINATED status: End %v, IdleSince %v", st.EndDateTime, st.IdleSinceDateTime)
	}
	cr := getCalc(t, c, *calc.CalculationExecutionId)
	t.Logf("calculation running at terminate: %s %q", cr.Status.State, aws.ToString(cr.Status.StateChangeReason))
	if cr.Status.State != types.CalculationExecutionStateFailed || !strings.Contains(aws.ToString(cr.Status.StateChangeReason), "session was terminated") || cr.Status.CompletionDateTime == nil {
		t.Errorf("calculation running at terminate: %s %q", cr.Status.State, aws.ToString(cr.Status.StateChangeReason))
	}
	noRunnerOf(t, s, id)

	// On an inactive session TerminateSession succeeds and changes nothing.
	final := getSession(t, c, id)
	if ms := aws.ToInt64(final.Statistics.DpuExecutionInMillis); ms <= 0 {
		t.Errorf("DpuExecutionInMillis of the ended session: %d", ms)
	}
	again, err := c.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(id)})
	if err != nil {
		t.Fatalf("TerminateSession on a terminated session: %v", err)
	}
	if again.State != types.SessionStateTerminated {
		t.Errorf("TerminateSession again: state %s", again.State)
	}
	time.Sleep(50 * time.Millisecond)
	if after := getSession(t, c, id); !reflect.DeepEqual(after.Status, final.Status) || !reflect.DeepEqual(after.Statistics, final.Statistics) {
		t.Errorf("TerminateSession changed a terminated session: %+v -> %+v", final.Status, after.Status)
	}
	_, err = c.StartCalculationExecution(ctx, &athena.StartCalculationExecutionInput{SessionId: aws.String(id), CodeBlock: aws.String("1")})
	wantErr[*types.InvalidRequestException](t, err, "TERMINATED")
}

// TestSessionList covers ListSessions (active only by default, StateFilter, newest first,
// pagination) and ListNotebookSessions.
func TestSessionList(t *testing.T) {
	s := fakeServer(t, nil)
	c, ctx := s.Client, context.Background()
	createSparkWorkGroup(t, c, "list")
	nb, err := c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("list"), Name: aws.String("nb")})
	if err != nil {
		t.Fatalf("CreateNotebook: %v", err)
	}
	var ids []string // in start order
	for i := range 4 {
		ids = append(ids, startIdleSession(t, c, "list", func(in *athena.StartSessionInput) {
			if i == 2 {
				in.EngineConfiguration.AdditionalConfigs = map[string]string{"NotebookId": *nb.NotebookId}
				in.NotebookVersion = aws.String("Athena notebook version 1")
			}
		}))
	}
	if _, err := c.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(ids[1])}); err != nil {
		t.Fatal(err)
	}
	waitSession(t, c, ids[1], 30*time.Second, types.SessionStateTerminated)

	list := func(filter types.SessionState, max int32) []string {
		t.Helper()
		var out []string
		in := &athena.ListSessionsInput{WorkGroup: aws.String("list"), StateFilter: filter}
		if max > 0 {
			in.MaxResults = aws.Int32(max)
		}
		pages := 0
		for p := athena.NewListSessionsPaginator(c, in); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListSessions: %v", err)
			}
			pages++
			if max > 0 && len(page.Sessions) > int(max) {
				t.Errorf("page of %d sessions, MaxResults %d", len(page.Sessions), max)
			}
			for _, ss := range page.Sessions {
				if ss.Status == nil || ss.EngineVersion == nil || aws.ToString(ss.EngineVersion.EffectiveEngineVersion) != "PySpark engine version 3" {
					t.Errorf("summary %s: %+v", aws.ToString(ss.SessionId), ss)
				}
				if filter != "" && ss.Status.State != filter {
					t.Errorf("StateFilter %s listed a %s session", filter, ss.Status.State)
				}
				out = append(out, *ss.SessionId)
			}
		}
		if max > 0 && len(out) > 0 && pages != (len(out)+int(max)-1)/int(max) {
			t.Errorf("%d pages for %d sessions, MaxResults %d", pages, len(out), max)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		filter types.SessionState
		max    int32
		want   []string
	}{
		{"active only by default, newest first", "", 0, []string{ids[3], ids[2], ids[0]}},
		{"paginated", "", 1, []string{ids[3], ids[2], ids[0]}},
		{"IDLE", types.SessionStateIdle, 2, []string{ids[3], ids[2], ids[0]}},
		{"TERMINATED", types.SessionStateTerminated, 0, []string{ids[1]}},
		{"FAILED", types.SessionStateFailed, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(tc.filter, tc.max); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	_, err = c.ListSessions(ctx, &athena.ListSessionsInput{WorkGroup: aws.String("nope")})
	wantErr[*types.InvalidRequestException](t, err, "nope")

	nbs, err := c.ListNotebookSessions(ctx, &athena.ListNotebookSessionsInput{NotebookId: nb.NotebookId})
	if err != nil {
		t.Fatalf("ListNotebookSessions: %v", err)
	}
	if len(nbs.NotebookSessionsList) != 1 || aws.ToString(nbs.NotebookSessionsList[0].SessionId) != ids[2] || nbs.NotebookSessionsList[0].CreationTime == nil {
		t.Errorf("ListNotebookSessions: %+v, want only %s", nbs.NotebookSessionsList, ids[2])
	}
	_, err = c.ListNotebookSessions(ctx, &athena.ListNotebookSessionsInput{NotebookId: aws.String("00000000-0000-4000-8000-000000000000")})
	wantErr[*types.ResourceNotFoundException](t, err, "")
}

// TestSessionValidation sends every kind of bad StartSession and checks its typed error and
// that nothing was created.
func TestSessionValidation(t *testing.T) {
	s := fakeServer(t, nil)
	c, ctx := s.Client, context.Background()
	createSparkWorkGroup(t, c, "valid")
	createSparkWorkGroup(t, c, "disabled")
	if _, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("disabled"), State: types.WorkGroupStateDisabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("sql")}); err != nil {
		t.Fatal(err)
	}
	ec := func(edit func(*types.EngineConfiguration)) *types.EngineConfiguration {
		e := &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(2)}
		if edit != nil {
			edit(e)
		}
		return e
	}
	for _, tc := range []struct {
		name string
		in   athena.StartSessionInput
		want errCheck
	}{
		{"unknown workgroup", athena.StartSessionInput{WorkGroup: aws.String("nope"), EngineConfiguration: ec(nil)}, invalidRequest("WorkGroup nope is not found.")},
		{"SQL workgroup", athena.StartSessionInput{WorkGroup: aws.String("sql"), EngineConfiguration: ec(nil)}, invalidRequest("Workgroup EngineVersion is not Spark.")},
		{"primary workgroup", athena.StartSessionInput{WorkGroup: aws.String("primary"), EngineConfiguration: ec(nil)}, invalidRequest("Workgroup EngineVersion is not Spark.")},
		{"disabled workgroup", athena.StartSessionInput{WorkGroup: aws.String("disabled"), EngineConfiguration: ec(nil)}, invalidRequest("disabled")},
		{"MaxConcurrentDpus 1", athena.StartSessionInput{WorkGroup: aws.String("valid"), EngineConfiguration: ec(func(e *types.EngineConfiguration) { e.MaxConcurrentDpus = aws.Int32(1) })}, invalidRequest("maxConcurrentDpus")},
		{"MaxConcurrentDpus 5001", athena.StartSessionInput{WorkGroup: aws.String("valid"), EngineConfiguration: ec(func(e *types.EngineConfiguration) { e.MaxConcurrentDpus = aws.Int32(5001) })}, invalidRequest("maxConcurrentDpus")},
		{"CoordinatorDpuSize 2", athena.StartSessionInput{WorkGroup: aws.String("valid"), EngineConfiguration: ec(func(e *types.EngineConfiguration) { e.CoordinatorDpuSize = aws.Int32(2) })}, invalidRequest("coordinatorDpuSize")},
		{"DefaultExecutorDpuSize 2", athena.StartSessionInput{WorkGroup: aws.String("valid"), EngineConfiguration: ec(func(e *types.EngineConfiguration) { e.DefaultExecutorDpuSize = aws.Int32(2) })}, invalidRequest("defaultExecutorDpuSize")},
		{"SparkProperties key without spark.", athena.StartSessionInput{WorkGroup: aws.String("valid"), EngineConfiguration: ec(func(e *types.EngineConfiguration) {
			e.SparkProperties = map[string]string{"hive.metastore": "x"}
		})}, invalidRequest(`"hive.metastore"`)},
		{"SparkProperties spark.athena.*", athena.StartSessionInput{WorkGroup: aws.String("valid"), EngineConfiguration: ec(func(e *types.EngineConfiguration) {
			e.SparkProperties = map[string]string{"spark.athena.foo": "x"}
		})}, invalidRequest(`"spark.athena.foo"`)},
		{"NotebookId without NotebookVersion", athena.StartSessionInput{WorkGroup: aws.String("valid"), EngineConfiguration: ec(func(e *types.EngineConfiguration) {
			e.AdditionalConfigs = map[string]string{"NotebookId": "00000000-0000-4000-8000-000000000000"}
		})}, invalidRequest("NotebookVersion is required when NotebookId is provided.")},
		{"unknown NotebookId", athena.StartSessionInput{WorkGroup: aws.String("valid"), NotebookVersion: aws.String("Athena notebook version 1"), EngineConfiguration: ec(func(e *types.EngineConfiguration) {
			e.AdditionalConfigs = map[string]string{"NotebookId": "00000000-0000-4000-8000-000000000000"}
		})}, invalidRequest("not found")},
		{"unknown NotebookVersion", athena.StartSessionInput{WorkGroup: aws.String("valid"), NotebookVersion: aws.String("Jupyter 9"), EngineConfiguration: ec(nil)}, invalidRequest("Jupyter 9")},
		{"SessionIdleTimeoutInMinutes 0", athena.StartSessionInput{WorkGroup: aws.String("valid"), SessionIdleTimeoutInMinutes: aws.Int32(0), EngineConfiguration: ec(nil)}, invalidRequest("sessionIdleTimeoutInMinutes")},
		{"SessionIdleTimeoutInMinutes 481", athena.StartSessionInput{WorkGroup: aws.String("valid"), SessionIdleTimeoutInMinutes: aws.Int32(481), EngineConfiguration: ec(nil)}, invalidRequest("sessionIdleTimeoutInMinutes")},
		{"ClientRequestToken too short", athena.StartSessionInput{WorkGroup: aws.String("valid"), ClientRequestToken: aws.String("short-token"), EngineConfiguration: ec(nil)}, invalidRequest("clientRequestToken")},
		{"ExecutionRole not an ARN", athena.StartSessionInput{WorkGroup: aws.String("valid"), ExecutionRole: aws.String("not-a-role-arn-at-all"), EngineConfiguration: ec(nil)}, invalidRequest("executionRole")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			_, err := c.StartSession(ctx, &in)
			tc.want(t, err)
		})
	}
	for _, wg := range []string{"valid", "disabled"} {
		for _, st := range []types.SessionState{"", types.SessionStateCreating, types.SessionStateFailed, types.SessionStateTerminated} {
			out, err := c.ListSessions(ctx, &athena.ListSessionsInput{WorkGroup: aws.String(wg), StateFilter: st})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Sessions) != 0 {
				t.Errorf("a refused StartSession left a session in %s: %+v", wg, out.Sessions)
			}
		}
	}

	// The same token returns the same session; other parameters under it are refused.
	token := "0123456789abcdef0123456789abcdef"
	in := athena.StartSessionInput{WorkGroup: aws.String("valid"), ClientRequestToken: aws.String(token), EngineConfiguration: ec(nil)}
	first, err := c.StartSession(ctx, &in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.StartSession(ctx, &in)
	if err != nil {
		t.Fatalf("StartSession again with the same token: %v", err)
	}
	if *second.SessionId != *first.SessionId {
		t.Errorf("same token, new session: %s then %s", *first.SessionId, *second.SessionId)
	}
	in.Description = aws.String("other")
	_, err = c.StartSession(ctx, &in)
	wantErr[*types.InvalidRequestException](t, err, "")
	listed, err := c.ListSessions(ctx, &athena.ListSessionsInput{WorkGroup: aws.String("valid")})
	if err != nil || len(listed.Sessions) != 1 {
		t.Errorf("sessions after an idempotent retry: %v %v", listed, err)
	}

	// Unknown session ids are InvalidRequestException (clients read that as "not found").
	unknown := aws.String("00000000-0000-4000-8000-000000000000")
	for name, call := range map[string]func() error{
		"GetSession": func() error { _, err := c.GetSession(ctx, &athena.GetSessionInput{SessionId: unknown}); return err },
		"GetSessionStatus": func() error {
			_, err := c.GetSessionStatus(ctx, &athena.GetSessionStatusInput{SessionId: unknown})
			return err
		},
		"TerminateSession": func() error {
			_, err := c.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: unknown})
			return err
		},
		"ListExecutors": func() error {
			_, err := c.ListExecutors(ctx, &athena.ListExecutorsInput{SessionId: unknown})
			return err
		},
		"ListCalculationExecutions": func() error {
			_, err := c.ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: unknown})
			return err
		},
		"StartCalculationExecution": func() error {
			_, err := c.StartCalculationExecution(ctx, &athena.StartCalculationExecutionInput{SessionId: unknown, CodeBlock: aws.String("1")})
			return err
		},
	} {
		t.Run("unknown session/"+name, func(t *testing.T) { invalidRequest(*unknown)(t, call()) })
	}
}

// TestSessionCap: the server-wide cap on active sessions answers TooManyRequestsException,
// and frees up when a session ends.
func TestSessionCap(t *testing.T) {
	s := fakeServer(t, func(c *Config) { c.MaxSessions = 1 })
	c, ctx := s.Client, context.Background()
	createSparkWorkGroup(t, c, "cap")
	first := startIdleSession(t, c, "cap", nil)
	_, err := c.StartSession(ctx, &athena.StartSessionInput{WorkGroup: aws.String("cap"), EngineConfiguration: &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(2)}})
	wantErr[*types.TooManyRequestsException](t, err, "Maximum allowed sessions")
	if _, err := c.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(first)}); err != nil {
		t.Fatal(err)
	}
	waitSession(t, c, first, 30*time.Second, types.SessionStateTerminated)
	startIdleSession(t, c, "cap", nil)
}

// TestSessionIdleTimeout: SessionIdleTimeoutInMinutes=1 ends an idle real Spark session
// after a minute, counted from its last calculation.
func TestSessionIdleTimeout(t *testing.T) {
	testPython(t)
	t.Parallel()
	s := startServer(t, newConfig(t, ""))
	c := s.Client
	createSparkWorkGroup(t, c, "idle")
	id := startIdleSession(t, c, "idle", func(in *athena.StartSessionInput) { in.SessionIdleTimeoutInMinutes = aws.Int32(1) })
	if got := getSession(t, c, id); aws.ToInt64(got.SessionConfiguration.IdleTimeoutSeconds) != 60 {
		t.Errorf("IdleTimeoutSeconds %d, want 60", aws.ToInt64(got.SessionConfiguration.IdleTimeoutSeconds))
	}
	wantCompleted(t, s, id, "print(1)")
	idle := waitSession(t, c, id, 10*time.Second, types.SessionStateIdle)
	if idle.IdleSinceDateTime == nil {
		t.Fatal("IDLE session without IdleSinceDateTime")
	}
	since := *idle.IdleSinceDateTime
	st := waitSession(t, c, id, 100*time.Second, types.SessionStateTerminated, types.SessionStateFailed)
	end := aws.ToTime(st.EndDateTime)
	t.Logf("idle for %s: %s %q", end.Sub(since).Round(100*time.Millisecond), st.State, aws.ToString(st.StateChangeReason))
	if st.State != types.SessionStateTerminated || !strings.Contains(aws.ToString(st.StateChangeReason), "idle") {
		t.Errorf("after the idle timeout: %s %q", st.State, aws.ToString(st.StateChangeReason))
	}
	if d := end.Sub(since); d < time.Minute || d > time.Minute+15*time.Second {
		t.Errorf("session ended %s after it went idle, want ~1m", d)
	}
	noRunnerOf(t, s, id)
}
