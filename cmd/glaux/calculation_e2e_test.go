package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// The shared session's tests must not define `x`: TestCalculationFailing relies on it being
// undefined.

// wantResult checks that a finished calculation has all four Result fields and that its
// three objects exist; it returns stdout and stderr.
func wantResult(t testing.TB, s *testServer, out *athena.GetCalculationExecutionOutput) (stdout, stderr string) {
	t.Helper()
	r := out.Result
	if r == nil || r.StdOutS3Uri == nil || r.StdErrorS3Uri == nil || r.ResultS3Uri == nil || aws.ToString(r.ResultType) != "application/vnd.aws.athena.v1+json" {
		t.Fatalf("Result of a %s calculation: %+v", out.Status.State, r)
	}
	dir := aws.ToString(out.WorkingDirectory)
	for _, uri := range []string{*r.StdOutS3Uri, *r.StdErrorS3Uri, *r.ResultS3Uri} {
		if !strings.HasPrefix(uri, dir) {
			t.Errorf("result object %s is not under the WorkingDirectory %s", uri, dir)
		}
	}
	var doc struct {
		Version       int    `json:"version"`
		CalculationID string `json:"calculation_id"`
		Outputs       []any  `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(readObject(t, s, *r.ResultS3Uri)), &doc); err != nil || doc.Version != 1 || doc.CalculationID != *out.CalculationExecutionId {
		t.Errorf("result document: %+v, %v", doc, err)
	}
	return readObject(t, s, *r.StdOutS3Uri), readObject(t, s, *r.StdErrorS3Uri)
}

// wantStatistics checks Statistics is present with a Progress text.
func wantStatistics(t testing.TB, st *types.CalculationStatistics, when string) {
	t.Helper()
	if st == nil || st.DpuExecutionInMillis == nil || aws.ToString(st.Progress) == "" {
		t.Errorf("Statistics %s: %+v", when, st)
	}
}

// TestCalculationSparkJob runs real Spark jobs and reads their exact answer back from the
// stdout object.
func TestCalculationSparkJob(t *testing.T) {
	s, session := sharedSpark(t)
	code := "print(spark.range(1, 1001).selectExpr('sum(id) AS s').collect()[0].s)\n" +
		"print(sc.parallelize(range(100), 4).map(lambda v: v * v).sum())\n" +
		"spark.createDataFrame([('a', 1), ('b', 2)], ['name', 'n']).show()"
	out := runCalculation(t, s.Client, session, code)
	if out.Status.State != types.CalculationExecutionStateCompleted || out.Status.StateChangeReason != nil {
		t.Fatalf("calculation %s %q", out.Status.State, aws.ToString(out.Status.StateChangeReason))
	}
	stdout, stderr := wantResult(t, s, out)
	want := "500500\n328350\n+----+---+\n|name|  n|\n+----+---+\n|   a|  1|\n|   b|  2|\n+----+---+\n\n"
	if stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if stderr != "" {
		t.Errorf("stderr of a clean Spark job: %q", stderr)
	}
	wantStatistics(t, out.Statistics, "when COMPLETED")
	st := out.Status
	if st.SubmissionDateTime == nil || st.CompletionDateTime == nil || st.CompletionDateTime.Before(*st.SubmissionDateTime) {
		t.Errorf("Status times: %+v", st)
	}
	if aws.ToString(out.SessionId) != session || aws.ToString(out.WorkingDirectory) != "s3://results/shared-spark/"+session+"/"+*out.CalculationExecutionId+"/" {
		t.Errorf("SessionId %q WorkingDirectory %q", aws.ToString(out.SessionId), aws.ToString(out.WorkingDirectory))
	}
	ctx := context.Background()
	code2, err := s.Client.GetCalculationExecutionCode(ctx, &athena.GetCalculationExecutionCodeInput{CalculationExecutionId: out.CalculationExecutionId})
	if err != nil || aws.ToString(code2.CodeBlock) != code {
		t.Errorf("GetCalculationExecutionCode: %q, %v", aws.ToString(code2.CodeBlock), err)
	}
	status, err := s.Client.GetCalculationExecutionStatus(ctx, &athena.GetCalculationExecutionStatusInput{CalculationExecutionId: out.CalculationExecutionId})
	if err != nil || !reflect.DeepEqual(status.Status, out.Status) {
		t.Errorf("GetCalculationExecutionStatus: %+v, %v", status, err)
	}
	listed, err := s.Client.ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: aws.String(session), MaxResults: aws.Int32(1)})
	if err != nil || len(listed.Calculations) != 1 || aws.ToString(listed.Calculations[0].CalculationExecutionId) != *out.CalculationExecutionId {
		t.Errorf("ListCalculationExecutions newest first: %+v, %v", listed, err)
	}
	waitSession(t, s.Client, session, 10*time.Second, types.SessionStateIdle)
}

// TestCalculationVariables: the session is one Python kernel, so names persist.
func TestCalculationVariables(t *testing.T) {
	s, session := sharedSpark(t)
	wantCompleted(t, s, session, "import math\nglaux_total = 41\ndef glaux_twice(v):\n    return 2 * v\nglaux_df = spark.range(5)")
	got := wantCompleted(t, s, session, "glaux_total += 1\nprint(glaux_total, glaux_twice(glaux_total), math.floor(2.5), glaux_df.count())")
	if got != "42 84 2 5\n" {
		t.Errorf("stdout %q, want %q", got, "42 84 2 5\n")
	}
}

// TestCalculationSQL: the %%sql cell magic runs Spark SQL, prints the table and displays it.
func TestCalculationSQL(t *testing.T) {
	s, session := sharedSpark(t)
	out := runCalculation(t, s.Client, session, "%%sql\nSELECT 1 + 1 AS two, 'glaux' AS name")
	if out.Status.State != types.CalculationExecutionStateCompleted {
		t.Fatalf("%%%%sql ended %s: %q", out.Status.State, aws.ToString(out.Status.StateChangeReason))
	}
	stdout, _ := wantResult(t, s, out)
	if !strings.Contains(stdout, "|two|name |") || !strings.Contains(stdout, "|2  |glaux|") {
		t.Errorf("%%%%sql stdout:\n%s", stdout)
	}
	if doc := readObject(t, s, *out.Result.ResultS3Uri); !strings.Contains(doc, "text/html") || !strings.Contains(doc, "glaux") {
		t.Errorf("%%%%sql result document: %s", doc)
	}
}

// TestCalculationFailing: an exception fails the calculation with its message as the reason
// and the traceback in stderr; the session stays usable.
func TestCalculationFailing(t *testing.T) {
	s, session := sharedSpark(t)
	out := runCalculation(t, s.Client, session, "print('before')\nx")
	if out.Status.State != types.CalculationExecutionStateFailed {
		t.Fatalf("state %s, want FAILED", out.Status.State)
	}
	const msg = "NameError: name 'x' is not defined"
	if got := aws.ToString(out.Status.StateChangeReason); got != msg {
		t.Errorf("StateChangeReason %q, want %q", got, msg)
	}
	stdout, stderr := wantResult(t, s, out)
	if stdout != "before\n" {
		t.Errorf("stdout %q", stdout)
	}
	if !strings.HasSuffix(strings.TrimRight(stderr, "\n"), "\n"+msg) || !strings.Contains(stderr, `File "<stdin>", line 2, in <module>`) {
		t.Errorf("stderr does not end with the traceback and %q:\n%s", msg, stderr)
	}
	wantStatistics(t, out.Statistics, "when FAILED")
	waitSession(t, s.Client, session, 10*time.Second, types.SessionStateIdle)
	if got := wantCompleted(t, s, session, "print('after')"); got != "after\n" {
		t.Errorf("session after a failure: %q", got)
	}
}

// TestCalculationQueue: calculations sent to a busy session queue (QUEUED) and run in order.
func TestCalculationQueue(t *testing.T) {
	s, session := sharedSpark(t)
	c := s.Client
	busy := startCalc(t, c, session, "import time\nglaux_order = []\ntime.sleep(4)")
	if busy.State != types.CalculationExecutionStateRunning && busy.State != types.CalculationExecutionStateQueued {
		t.Errorf("first calculation %s", busy.State)
	}
	var queued []string
	for i := 1; i <= 3; i++ {
		out := startCalc(t, c, session, "glaux_order.append("+string(rune('0'+i))+")\nprint(glaux_order)")
		if out.State != types.CalculationExecutionStateQueued {
			t.Errorf("calculation %d sent to a busy session: %s, want QUEUED", i, out.State)
		}
		queued = append(queued, *out.CalculationExecutionId)
	}
	if st := waitSession(t, c, session, 5*time.Second, types.SessionStateBusy); st.IdleSinceDateTime != nil {
		t.Errorf("BUSY session with IdleSinceDateTime %v", st.IdleSinceDateTime)
	}
	for _, id := range queued {
		got := getCalc(t, c, id)
		if got.Status.State != types.CalculationExecutionStateQueued || got.Result != nil {
			t.Errorf("queued calculation: %s, Result %+v", got.Status.State, got.Result)
		}
		wantStatistics(t, got.Statistics, "when QUEUED")
		st, err := c.GetCalculationExecutionStatus(context.Background(), &athena.GetCalculationExecutionStatusInput{CalculationExecutionId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		wantStatistics(t, st.Statistics, "of GetCalculationExecutionStatus when QUEUED")
	}
	prev := waitCalculation(t, c, *busy.CalculationExecutionId, time.Minute)
	for i, id := range queued {
		out := waitCalculation(t, c, id, time.Minute)
		if out.Status.State != types.CalculationExecutionStateCompleted {
			t.Fatalf("queued calculation %d: %s %q", i+1, out.Status.State, aws.ToString(out.Status.StateChangeReason))
		}
		if out.Status.CompletionDateTime.Before(*prev.Status.CompletionDateTime) {
			t.Errorf("calculation %d completed at %v, before its predecessor (%v)", i+1, out.Status.CompletionDateTime, prev.Status.CompletionDateTime)
		}
		prev = out
	}
	if got := readObject(t, s, *prev.Result.StdOutS3Uri); got != "[1, 2, 3]\n" {
		t.Errorf("last queued calculation printed %q, want the three in order", got)
	}
	waitSession(t, c, session, 10*time.Second, types.SessionStateIdle)
}

// TestCalculationStop stops a long Spark job: CANCELED within seconds, progress seen on the
// way, and the session keeps its variables and runs Spark jobs afterwards.
func TestCalculationStop(t *testing.T) {
	s, session := sharedSpark(t)
	c, ctx := s.Client, context.Background()
	wantCompleted(t, s, session, "glaux_keep = 'still here'")
	// ~400 s of tasks on one core: it only ends by being stopped.
	calc := startCalc(t, c, session, "import time\ndef glaux_slow(v):\n    time.sleep(0.1)\n    return v\nglaux_big = sc.parallelize(range(4000), 400).map(glaux_slow).count()")
	id := *calc.CalculationExecutionId
	waitCalcState(t, c, id, types.CalculationExecutionStateRunning, 30*time.Second)
	// Progress is updated while the job runs.
	seen := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for len(seen) < 3 && time.Now().Before(deadline) {
		out := getCalc(t, c, id)
		wantStatistics(t, out.Statistics, "when RUNNING")
		if p := aws.ToString(out.Statistics.Progress); strings.Contains(p, "tasks") {
			seen[p] = true
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(seen) < 3 {
		t.Errorf("Progress seen while a Spark job ran: %v, want it to change", seen)
	}
	t.Logf("progress: %v", seen)

	stopped := time.Now()
	stop, err := c.StopCalculationExecution(ctx, &athena.StopCalculationExecutionInput{CalculationExecutionId: aws.String(id)})
	if err != nil {
		t.Fatalf("StopCalculationExecution: %v", err)
	}
	if stop.State != types.CalculationExecutionStateCanceling && stop.State != types.CalculationExecutionStateCanceled {
		t.Errorf("StopCalculationExecution state %s", stop.State)
	}
	out := waitCalculation(t, c, id, 15*time.Second)
	t.Logf("stopped in %s: %s %q", time.Since(stopped).Round(100*time.Millisecond), out.Status.State, aws.ToString(out.Status.StateChangeReason))
	if out.Status.State != types.CalculationExecutionStateCanceled {
		t.Errorf("stopped calculation ended %s: %q", out.Status.State, aws.ToString(out.Status.StateChangeReason))
	}
	wantResult(t, s, out)
	waitSession(t, c, session, 10*time.Second, types.SessionStateIdle)
	got := wantCompleted(t, s, session, "print(glaux_keep, 'glaux_big' in globals(), sc.parallelize(range(10), 2).sum())")
	if got != "still here False 45\n" {
		t.Errorf("after the stop: %q, want %q", got, "still here False 45\n")
	}
}

// TestCalculationStopFinished: stopping a finished calculation succeeds and changes nothing.
func TestCalculationStopFinished(t *testing.T) {
	s, session := sharedSpark(t)
	c := s.Client
	for _, code := range []string{"print(1)", "raise ValueError('boom')"} {
		done := runCalculation(t, c, session, code)
		stop, err := c.StopCalculationExecution(context.Background(), &athena.StopCalculationExecutionInput{CalculationExecutionId: done.CalculationExecutionId})
		if err != nil {
			t.Fatalf("StopCalculationExecution on a %s calculation: %v", done.Status.State, err)
		}
		if stop.State != done.Status.State {
			t.Errorf("StopCalculationExecution on %s answered %s", done.Status.State, stop.State)
		}
		after := getCalc(t, c, *done.CalculationExecutionId)
		if !reflect.DeepEqual(after.Status, done.Status) || !reflect.DeepEqual(after.Result, done.Result) || !reflect.DeepEqual(after.Statistics, done.Statistics) {
			t.Errorf("stop changed a finished calculation: %+v -> %+v", done.Status, after.Status)
		}
	}
}

// TestCalculationQueueDepth: past the queue depth a busy session refuses calculations with
// Athena's own BUSY message; a queued calculation stopped before it runs is CANCELED.
func TestCalculationQueueDepth(t *testing.T) {
	s := fakeServer(t, func(c *Config) { c.QueueDepth = 1 })
	c, ctx := s.Client, context.Background()
	createSparkWorkGroup(t, c, "depth")
	session := startIdleSession(t, c, "depth", nil)
	running := startCalc(t, c, session, "import time\ntime.sleep(3)")
	queued := startCalc(t, c, session, "print('never')")
	if queued.State != types.CalculationExecutionStateQueued {
		t.Errorf("second calculation %s, want QUEUED", queued.State)
	}
	_, err := c.StartCalculationExecution(ctx, &athena.StartCalculationExecutionInput{SessionId: aws.String(session), CodeBlock: aws.String("1")})
	wantErr[*types.InvalidRequestException](t, err, "Session is in the BUSY state; needs to be IDLE to accept Calculations.")

	stop, err := c.StopCalculationExecution(ctx, &athena.StopCalculationExecutionInput{CalculationExecutionId: queued.CalculationExecutionId})
	if err != nil || stop.State != types.CalculationExecutionStateCanceled {
		t.Fatalf("stopping a queued calculation: %v, %v", stop, err)
	}
	if out := waitCalculation(t, c, *running.CalculationExecutionId, 30*time.Second); out.Status.State != types.CalculationExecutionStateCompleted {
		t.Errorf("running calculation: %s", out.Status.State)
	}
	waitSession(t, c, session, 10*time.Second, types.SessionStateIdle)
	if got := getCalc(t, c, *queued.CalculationExecutionId); got.Status.State != types.CalculationExecutionStateCanceled {
		t.Errorf("stopped queued calculation ran: %s", got.Status.State)
	}
}

// TestCalculationValidation sends bad StartCalculationExecution requests and looks up unknown
// calculations; same-token retries return the same calculation.
func TestCalculationValidation(t *testing.T) {
	s := fakeServer(t, nil)
	c, ctx := s.Client, context.Background()
	createSparkWorkGroup(t, c, "calcs")
	session := startIdleSession(t, c, "calcs", nil)
	ended := startIdleSession(t, c, "calcs", nil)
	if _, err := c.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(ended)}); err != nil {
		t.Fatal(err)
	}
	waitSession(t, c, ended, 30*time.Second, types.SessionStateTerminated)

	for _, tc := range []struct {
		name string
		in   athena.StartCalculationExecutionInput
		want errCheck
	}{
		{"CodeBlock and CalculationConfiguration.CodeBlock", athena.StartCalculationExecutionInput{SessionId: aws.String(session), CodeBlock: aws.String("1"),
			CalculationConfiguration: &types.CalculationConfiguration{CodeBlock: aws.String("2")}}, invalidRequest("not both")},
		{"neither CodeBlock", athena.StartCalculationExecutionInput{SessionId: aws.String(session)}, invalidRequest("CodeBlock is required")},
		{"empty CalculationConfiguration", athena.StartCalculationExecutionInput{SessionId: aws.String(session), CalculationConfiguration: &types.CalculationConfiguration{}}, invalidRequest("CodeBlock is required")},
		{"CodeBlock over 68000 characters", athena.StartCalculationExecutionInput{SessionId: aws.String(session), CodeBlock: aws.String("#" + strings.Repeat("a", 68000))}, invalidRequest("codeBlock")},
		{"CalculationConfiguration.CodeBlock over 68000 characters", athena.StartCalculationExecutionInput{SessionId: aws.String(session),
			CalculationConfiguration: &types.CalculationConfiguration{CodeBlock: aws.String("#" + strings.Repeat("a", 68000))}}, invalidRequest("codeBlock")},
		{"ClientRequestToken too short", athena.StartCalculationExecutionInput{SessionId: aws.String(session), CodeBlock: aws.String("1"), ClientRequestToken: aws.String("short")}, invalidRequest("clientRequestToken")},
		{"terminated session", athena.StartCalculationExecutionInput{SessionId: aws.String(ended), CodeBlock: aws.String("1")}, invalidRequest("TERMINATED")},
		{"unknown session", athena.StartCalculationExecutionInput{SessionId: aws.String("00000000-0000-4000-8000-000000000000"), CodeBlock: aws.String("1")}, invalidRequest("00000000-0000-4000-8000-000000000000")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			_, err := c.StartCalculationExecution(ctx, &in)
			tc.want(t, err)
		})
	}
	if listed, err := c.ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: aws.String(session)}); err != nil || len(listed.Calculations) != 0 {
		t.Errorf("refused calculations were recorded: %+v, %v", listed, err)
	}

	// The deprecated CalculationConfiguration.CodeBlock still works; 68000 characters are fine.
	long := startCalc(t, c, session, "#"+strings.Repeat("a", 67999))
	deprecated, err := c.StartCalculationExecution(ctx, &athena.StartCalculationExecutionInput{SessionId: aws.String(session),
		CalculationConfiguration: &types.CalculationConfiguration{CodeBlock: aws.String("print('old style')")}})
	if err != nil {
		t.Fatalf("CalculationConfiguration.CodeBlock: %v", err)
	}
	waitCalculation(t, c, *long.CalculationExecutionId, 30*time.Second)
	if out := waitCalculation(t, c, *deprecated.CalculationExecutionId, 30*time.Second); out.Status.State != types.CalculationExecutionStateCompleted || readObject(t, s, *out.Result.StdOutS3Uri) != "old style\n" {
		t.Errorf("CalculationConfiguration.CodeBlock calculation: %s", out.Status.State)
	}

	token := "fedcba9876543210fedcba9876543210"
	in := athena.StartCalculationExecutionInput{SessionId: aws.String(session), CodeBlock: aws.String("print('once')"), ClientRequestToken: aws.String(token)}
	first, err := c.StartCalculationExecution(ctx, &in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.StartCalculationExecution(ctx, &in)
	if err != nil {
		t.Fatalf("same token again: %v", err)
	}
	if *first.CalculationExecutionId != *second.CalculationExecutionId {
		t.Errorf("same token, new calculation: %s then %s", *first.CalculationExecutionId, *second.CalculationExecutionId)
	}
	in.CodeBlock = aws.String("print('twice')")
	_, err = c.StartCalculationExecution(ctx, &in)
	wantErr[*types.InvalidRequestException](t, err, "")
	waitCalculation(t, c, *first.CalculationExecutionId, 30*time.Second)
	if listed, err := c.ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: aws.String(session)}); err != nil || len(listed.Calculations) != 3 {
		t.Errorf("calculations after an idempotent retry: %d, %v", len(listed.Calculations), err)
	}

	// Unknown calculation ids are ResourceNotFoundException.
	unknown := aws.String("00000000-0000-4000-8000-000000000000")
	for name, call := range map[string]func() error{
		"GetCalculationExecution": func() error {
			_, err := c.GetCalculationExecution(ctx, &athena.GetCalculationExecutionInput{CalculationExecutionId: unknown})
			return err
		},
		"GetCalculationExecutionStatus": func() error {
			_, err := c.GetCalculationExecutionStatus(ctx, &athena.GetCalculationExecutionStatusInput{CalculationExecutionId: unknown})
			return err
		},
		"GetCalculationExecutionCode": func() error {
			_, err := c.GetCalculationExecutionCode(ctx, &athena.GetCalculationExecutionCodeInput{CalculationExecutionId: unknown})
			return err
		},
		"StopCalculationExecution": func() error {
			_, err := c.StopCalculationExecution(ctx, &athena.StopCalculationExecutionInput{CalculationExecutionId: unknown})
			return err
		},
	} {
		t.Run("unknown calculation/"+name, func(t *testing.T) { notFound(*unknown)(t, call()) })
	}
}
