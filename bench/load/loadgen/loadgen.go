// Package loadgen is the load of glaux's load test (cmd/glaux TestLoadShort) and of its
// few-minutes version (bench/load): many SigV4 clients polling and listing while fake-Spark
// sessions run calculations and notebooks are saved, all at once, against one glaux.
//
// It drives a glaux someone else started (an endpoint, its data dir, its pid), records every
// request's outcome and latency, samples glaux's memory, and afterwards checks that nothing
// acknowledged was lost or duplicated.
package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// Config is one load run.
type Config struct {
	Endpoint             string // http://127.0.0.1:port of a glaux started with --fake-spark
	AccessKey, SecretKey string
	DataDir              string // glaux's --data-dir: result objects are read from <DataDir>/objects
	Pid                  int    // glaux's process id, whose memory is sampled; 0: this process

	Clients   int           // polling and listing clients, each its own aws-sdk-go-v2 client (50)
	Sessions  int           // sessions running calculations continuously (3)
	InFlight  int           // unfinished calculations each session has at any time (2: one runs, one queues)
	Notebooks int           // notebooks saved continuously with UpdateNotebook (2)
	Duration  time.Duration // how long the load runs
	WarmUp    time.Duration // the start of Duration left out of latencies and of the memory baseline
	Sample    time.Duration // how often glaux's memory is sampled (1s)
	Logf      func(format string, args ...any)
}

func (c *Config) defaults() {
	if c.Clients <= 0 {
		c.Clients = 50
	}
	if c.Sessions <= 0 {
		c.Sessions = 3
	}
	if c.InFlight <= 0 {
		c.InFlight = 2
	}
	if c.Notebooks < 0 {
		c.Notebooks = 0
	}
	if c.Sample <= 0 {
		c.Sample = time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Operations, in report order.
var Operations = []string{
	"GetSessionStatus", "GetCalculationExecutionStatus", "ListSessions", "ListCalculationExecutions",
	"ListWorkGroups", "StartCalculationExecution", "UpdateNotebook",
}

// OpStats is what happened to one operation over the whole run; latencies only count
// requests sent after the warm-up.
type OpStats struct {
	Name      string
	Requests  int // sent, whatever the outcome
	Errors    int // every failed request: the three below
	Status5xx int // answered 5xx
	Status4xx int // answered 4xx (an Athena exception)
	Transport int // no HTTP answer (connection refused or reset, timeout)
	FirstErr  string
	Measured  int // requests sent after the warm-up, which P50, P99 and Max are over
	P50, P99  time.Duration
	Max       time.Duration
	lat       []time.Duration
}

// Sample is glaux's memory at one moment, with the work done up to then.
type Sample struct {
	At        time.Duration // since the load started
	RSS       int64         // VmRSS, bytes
	Threads   int
	FDs       int
	DBBytes   int64 // glaux.db plus its WAL
	Requests  int64 // requests answered so far, all operations
	Completed int64 // calculations seen COMPLETED so far
}

// Calc is one acknowledged StartCalculationExecution.
type Calc struct {
	ID, Session, Marker string
	Final               string // the final state the load saw ("" if it never saw one)
}

// Result is a finished run.
type Result struct {
	Config     Config
	Elapsed    time.Duration
	Ops        map[string]*OpStats
	Samples    []Sample
	Calcs      []Calc
	NotebookV  map[string]int // notebook id -> last acknowledged version
	Problems   []string       // lost, duplicated or wrong results found by Verify
	Unfinished int            // acknowledged calculations not final when the load ended
	// VerifyRetries counts Verify's reads that got no complete HTTP answer and were retried.
	VerifyRetries int
}

// recorder collects outcomes from every goroutine.
type recorder struct {
	mu       sync.Mutex
	ops      map[string]*OpStats
	measured time.Time // requests sent from then on count in the latencies
	answered atomic.Int64
}

func (r *recorder) record(op string, start time.Time, err error) {
	d := time.Since(start)
	r.answered.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.ops[op]
	if s == nil {
		s = &OpStats{Name: op}
		r.ops[op] = s
	}
	s.Requests++
	if err != nil {
		s.Errors++
		var re *awshttp.ResponseError
		switch {
		case errors.As(err, &re) && re.HTTPStatusCode() >= 500:
			s.Status5xx++
		case errors.As(err, &re):
			s.Status4xx++
		default:
			s.Transport++
		}
		if s.FirstErr == "" {
			s.FirstErr = err.Error()
		}
		return
	}
	if !start.Before(r.measured) {
		s.lat = append(s.lat, d)
	}
}

// NewClient is an aws-sdk-go-v2 Athena client with its own connections, signing every
// request with SigV4, and no retries (a retry would hide a failed request).
func NewClient(endpoint, akid, secret string) *athena.Client {
	return athena.New(athena.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   awshttp.NewBuildableClient().WithTimeout(30 * time.Second),
	})
}

// state is what the load's goroutines share.
type state struct {
	cfg      Config
	rec      *recorder
	wg       string
	sessions []string
	mu       sync.RWMutex
	calcs    []*Calc
	calcIDs  []string // acknowledged ids, for the pollers
	done     atomic.Int64
	nbMu     sync.Mutex
	nbV      map[string]int
	// verifyRetries counts verification reads that got no complete answer and were retried.
	verifyRetries atomic.Int64
}

// Run sets up a workgroup, sessions and notebooks, runs the load for cfg.Duration, waits for
// the calculations it started, and verifies the results.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	setup := NewClient(cfg.Endpoint, cfg.AccessKey, cfg.SecretKey)
	st := &state{cfg: cfg, rec: &recorder{ops: map[string]*OpStats{}}, nbV: map[string]int{}}
	st.wg = fmt.Sprintf("load-%d", time.Now().UnixNano())
	_, err := setup.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{
		Name: aws.String(st.wg),
		Configuration: &types.WorkGroupConfiguration{
			EngineVersion:       &types.EngineVersion{SelectedEngineVersion: aws.String("PySpark engine version 3")},
			ExecutionRole:       aws.String("arn:aws:iam::123456789012:role/glaux-load"),
			ResultConfiguration: &types.ResultConfiguration{OutputLocation: aws.String("s3://load-results/" + st.wg + "/")},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("CreateWorkGroup: %w", err)
	}
	var notebooks []string
	for i := range cfg.Notebooks {
		out, err := setup.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String(st.wg), Name: aws.String(fmt.Sprintf("load-%d", i))})
		if err != nil {
			return nil, fmt.Errorf("CreateNotebook: %w", err)
		}
		notebooks = append(notebooks, *out.NotebookId)
	}
	for range cfg.Sessions {
		id, err := startSession(ctx, setup, st.wg)
		if err != nil {
			return nil, err
		}
		st.sessions = append(st.sessions, id)
	}
	cfg.Logf("load: workgroup %s, %d sessions IDLE, %d notebooks; %d clients for %s", st.wg, len(st.sessions), len(notebooks), cfg.Clients, cfg.Duration)

	begin := time.Now()
	end := begin.Add(cfg.Duration)
	st.rec.measured = begin.Add(cfg.WarmUp)
	loadCtx, cancel := context.WithDeadline(ctx, end)
	defer cancel()

	var samples []Sample
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(cfg.Sample)
		defer t.Stop()
		for {
			samples = append(samples, st.sample(time.Since(begin)))
			select {
			case <-loadCtx.Done():
				return
			case <-t.C:
			}
		}
	}()

	var wg sync.WaitGroup
	for i := range cfg.Clients {
		c := NewClient(cfg.Endpoint, cfg.AccessKey, cfg.SecretKey)
		rng := rand.New(rand.NewPCG(uint64(i), uint64(begin.UnixNano())))
		wg.Go(func() { st.poll(loadCtx, c, rng) })
	}
	for si, sess := range st.sessions {
		for j := range cfg.InFlight {
			c := NewClient(cfg.Endpoint, cfg.AccessKey, cfg.SecretKey)
			wg.Go(func() { st.calculate(loadCtx, ctx, c, sess, fmt.Sprintf("%d-%d", si, j)) })
		}
	}
	for _, nb := range notebooks {
		c := NewClient(cfg.Endpoint, cfg.AccessKey, cfg.SecretKey)
		wg.Go(func() { st.saveNotebook(loadCtx, c, nb) })
	}
	wg.Wait()
	<-sampled
	samples = append(samples, st.sample(time.Since(begin)))
	res := &Result{Config: cfg, Elapsed: time.Since(begin), Samples: samples, Ops: st.rec.ops, NotebookV: st.nbV}
	for _, c := range st.calcs {
		res.Calcs = append(res.Calcs, *c)
		if c.Final == "" {
			res.Unfinished++
		}
	}
	for _, s := range res.Ops {
		slices.Sort(s.lat)
		s.Measured = len(s.lat)
		if n := len(s.lat); n > 0 {
			s.P50, s.P99, s.Max = s.lat[rank(n, 0.50)], s.lat[rank(n, 0.99)], s.lat[n-1]
		}
		s.lat = nil
	}
	res.Problems = verify(ctx, setup, st, res)
	res.VerifyRetries = int(st.verifyRetries.Load())
	return res, nil
}

// rank is the nearest-rank percentile index.
func rank(n int, p float64) int {
	i := int(float64(n)*p+0.999999) - 1
	return max(0, min(n-1, i))
}

func startSession(ctx context.Context, c *athena.Client, wg string) (string, error) {
	out, err := c.StartSession(ctx, &athena.StartSessionInput{
		WorkGroup:           aws.String(wg),
		EngineConfiguration: &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(2)},
	})
	if err != nil {
		return "", fmt.Errorf("StartSession: %w", err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		st, err := c.GetSessionStatus(ctx, &athena.GetSessionStatusInput{SessionId: out.SessionId})
		if err != nil {
			return "", fmt.Errorf("GetSessionStatus: %w", err)
		}
		switch st.Status.State {
		case types.SessionStateIdle:
			return *out.SessionId, nil
		case types.SessionStateFailed, types.SessionStateTerminated:
			return "", fmt.Errorf("session %s ended %s: %s", *out.SessionId, st.Status.State, aws.ToString(st.Status.StateChangeReason))
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("session %s still %s after 2m", *out.SessionId, st.Status.State)
		}
	}
}

// poll is one of the Clients: a closed loop of status polls and listings, each request sent
// as soon as the previous one was answered.
func (st *state) poll(ctx context.Context, c *athena.Client, rng *rand.Rand) {
	for ctx.Err() == nil {
		sess := st.sessions[rng.IntN(len(st.sessions))]
		var op string
		var err error
		start := time.Now()
		// Request contexts are not tied to the deadline: a request in flight when the load
		// ends is answered, not cut off (that would count as an error of glaux's).
		rctx := context.WithoutCancel(ctx)
		switch p := rng.IntN(100); {
		case p < 30:
			op = "GetSessionStatus"
			_, err = c.GetSessionStatus(rctx, &athena.GetSessionStatusInput{SessionId: &sess})
		case p < 60:
			id := st.randomCalc(rng)
			if id == "" {
				continue
			}
			op = "GetCalculationExecutionStatus"
			_, err = c.GetCalculationExecutionStatus(rctx, &athena.GetCalculationExecutionStatusInput{CalculationExecutionId: &id})
		case p < 75:
			op = "ListSessions"
			_, err = c.ListSessions(rctx, &athena.ListSessionsInput{WorkGroup: &st.wg})
		case p < 90:
			op = "ListCalculationExecutions"
			_, err = c.ListCalculationExecutions(rctx, &athena.ListCalculationExecutionsInput{SessionId: &sess})
		default:
			op = "ListWorkGroups"
			_, err = c.ListWorkGroups(rctx, &athena.ListWorkGroupsInput{})
		}
		st.rec.record(op, start, err)
	}
}

func (st *state) randomCalc(rng *rand.Rand) string {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if len(st.calcIDs) == 0 {
		return ""
	}
	// Mostly recent ones, the ones clients poll.
	n := len(st.calcIDs)
	if rng.IntN(4) > 0 {
		return st.calcIDs[max(0, n-1-rng.IntN(min(n, 20)))]
	}
	return st.calcIDs[rng.IntN(n)]
}

// calculate keeps one calculation of sess unfinished while the load runs: it submits one
// printing its own marker, polls it until it is final, and submits the next. The last one
// is followed to its end even after the load stopped (runCtx).
func (st *state) calculate(loadCtx, runCtx context.Context, c *athena.Client, sess, tag string) {
	for n := 0; loadCtx.Err() == nil; n++ {
		marker := fmt.Sprintf("glaux-load %s %s #%d", sess, tag, n)
		start := time.Now()
		out, err := c.StartCalculationExecution(context.WithoutCancel(loadCtx), &athena.StartCalculationExecutionInput{
			SessionId: &sess, CodeBlock: aws.String(fmt.Sprintf("print(%q)", marker)),
		})
		st.rec.record("StartCalculationExecution", start, err)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		calc := &Calc{ID: *out.CalculationExecutionId, Session: sess, Marker: marker}
		st.mu.Lock()
		st.calcs = append(st.calcs, calc)
		st.calcIDs = append(st.calcIDs, calc.ID)
		st.mu.Unlock()
		// Poll like a client (every 20 ms) until final; give up 60 s after the load ended.
		for deadline := time.Now().Add(st.cfg.Duration + time.Minute); time.Now().Before(deadline) && runCtx.Err() == nil; time.Sleep(20 * time.Millisecond) {
			start := time.Now()
			s, err := c.GetCalculationExecutionStatus(context.WithoutCancel(loadCtx), &athena.GetCalculationExecutionStatusInput{CalculationExecutionId: &calc.ID})
			st.rec.record("GetCalculationExecutionStatus", start, err)
			if err != nil {
				continue
			}
			switch s.Status.State {
			case types.CalculationExecutionStateCompleted, types.CalculationExecutionStateFailed, types.CalculationExecutionStateCanceled:
				st.mu.Lock()
				calc.Final = string(s.Status.State)
				st.mu.Unlock()
				if s.Status.State == types.CalculationExecutionStateCompleted {
					st.done.Add(1)
				}
			}
			if calc.Final != "" {
				break
			}
		}
	}
}

// NotebookPayload is an ipynb document that says which version it is (metadata
// glaux_version and a cell), about 4 KiB.
func NotebookPayload(version int) string {
	doc := map[string]any{
		"nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{"glaux_version": version, "kernelspec": map[string]any{"name": "pyspark", "display_name": "PySpark"}},
		"cells": []any{map[string]any{
			"cell_type": "code", "metadata": map[string]any{}, "outputs": []any{}, "execution_count": nil,
			"source": fmt.Sprintf("# version %d\n%s", version, strings.Repeat("x = 1  # padding\n", 220)),
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// PayloadVersion reads the version NotebookPayload wrote (-1 if there is none).
func PayloadVersion(payload string) int {
	var doc struct {
		Metadata struct {
			Version *int `json:"glaux_version"`
		} `json:"metadata"`
	}
	if json.Unmarshal([]byte(payload), &doc) != nil || doc.Metadata.Version == nil {
		return -1
	}
	return *doc.Metadata.Version
}

// saveNotebook saves nb with increasing versions, back to back.
func (st *state) saveNotebook(ctx context.Context, c *athena.Client, nb string) {
	for v := 1; ctx.Err() == nil; v++ {
		start := time.Now()
		_, err := c.UpdateNotebook(context.WithoutCancel(ctx), &athena.UpdateNotebookInput{
			NotebookId: &nb, Payload: aws.String(NotebookPayload(v)), Type: types.NotebookTypeIpynb,
		})
		st.rec.record("UpdateNotebook", start, err)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		st.nbMu.Lock()
		st.nbV[nb] = v
		st.nbMu.Unlock()
	}
}

// sample reads glaux's memory from /proc.
func (st *state) sample(at time.Duration) Sample {
	pid := "self"
	if st.cfg.Pid > 0 {
		pid = strconv.Itoa(st.cfg.Pid)
	}
	s := Sample{At: at, Requests: st.rec.answered.Load(), Completed: st.done.Load()}
	s.RSS, s.Threads = ProcStatus(pid)
	if fds, err := os.ReadDir(filepath.Join("/proc", pid, "fd")); err == nil {
		s.FDs = len(fds)
	}
	for _, f := range []string{"glaux.db", "glaux.db-wal"} {
		if fi, err := os.Stat(filepath.Join(st.cfg.DataDir, f)); err == nil {
			s.DBBytes += fi.Size()
		}
	}
	return s
}

// ProcStatus reads VmRSS (bytes) and Threads of a process ("self" or a pid).
func ProcStatus(pid string) (rss int64, threads int) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "Threads":
			threads = int(n)
		}
	}
	return rss, threads
}

// verify checks, once the load is over, that every acknowledged calculation is listed
// exactly once by ListCalculationExecutions, COMPLETED, with its own marker as its stdout, that
// nothing unacknowledged was listed, and that each notebook exports its last saved version.
func verify(ctx context.Context, c *athena.Client, st *state, res *Result) []string {
	var problems []string
	bad := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		} else if len(problems) == 20 {
			problems = append(problems, "(more problems left out)")
		}
	}
	acked := map[string]*Calc{}
	for i := range res.Calcs {
		acked[res.Calcs[i].ID] = &res.Calcs[i]
	}
	listed := map[string]int{}
	for _, sess := range st.sessions {
		var token *string
		for page := 0; ; page++ {
			out, err := retry(ctx, st, func() (*athena.ListCalculationExecutionsOutput, error) {
				return c.ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: aws.String(sess), NextToken: token, MaxResults: aws.Int32(100)})
			})
			if err != nil {
				bad("ListCalculationExecutions %s: %v", sess, err)
				break
			}
			for _, s := range out.Calculations {
				id := aws.ToString(s.CalculationExecutionId)
				listed[id]++
				if a := acked[id]; a == nil {
					bad("calculation %s of session %s is listed but was never acknowledged", id, sess)
				} else if a.Session != sess {
					bad("calculation %s of session %s is listed under session %s", id, a.Session, sess)
				}
			}
			if token = out.NextToken; token == nil || page > 100000 {
				break
			}
		}
	}
	for _, calc := range res.Calcs {
		switch n := listed[calc.ID]; {
		case n == 0:
			bad("acknowledged calculation %s (%s) is not listed: lost", calc.ID, calc.Marker)
			continue
		case n > 1:
			bad("calculation %s is listed %d times: duplicated", calc.ID, n)
		}
		out, err := retry(ctx, st, func() (*athena.GetCalculationExecutionOutput, error) {
			return c.GetCalculationExecution(ctx, &athena.GetCalculationExecutionInput{CalculationExecutionId: aws.String(calc.ID)})
		})
		if err != nil {
			bad("GetCalculationExecution %s: %v", calc.ID, err)
			continue
		}
		if out.Status.State != types.CalculationExecutionStateCompleted {
			bad("calculation %s ended %s: %s", calc.ID, out.Status.State, aws.ToString(out.Status.StateChangeReason))
			continue
		}
		if out.Result == nil {
			bad("COMPLETED calculation %s has no Result", calc.ID)
			continue
		}
		got, err := ReadObject(st.cfg.DataDir, aws.ToString(out.Result.StdOutS3Uri))
		if err != nil {
			bad("stdout of %s: %v", calc.ID, err)
		} else if got != calc.Marker+"\n" {
			bad("stdout of %s is %q, want %q", calc.ID, got, calc.Marker+"\n")
		}
	}
	for nb, v := range st.nbV {
		out, err := retry(ctx, st, func() (*athena.ExportNotebookOutput, error) {
			return c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: aws.String(nb)})
		})
		if err != nil {
			bad("ExportNotebook %s: %v", nb, err)
		} else if got := PayloadVersion(aws.ToString(out.Payload)); got != v {
			bad("notebook %s exports version %d, the last one saved was %d", nb, got, v)
		}
	}
	return problems
}

// retry runs one of verify's reads, again (up to 3 times) when it got no complete HTTP
// answer: the check is of what glaux stored, and a read is idempotent. Each retry is logged
// and counted in Result.VerifyRetries, so that it shows.
func retry[T any](ctx context.Context, st *state, read func() (T, error)) (T, error) {
	for i := 0; ; i++ {
		out, err := read()
		var re *awshttp.ResponseError
		if err == nil || i == 3 || ctx.Err() != nil || (errors.As(err, &re) && re.HTTPStatusCode() != 200) {
			return out, err
		}
		st.verifyRetries.Add(1)
		st.cfg.Logf("load: verification read failed, retrying: %v", err)
		time.Sleep(100 * time.Millisecond)
	}
}

// ReadObject reads s3://bucket/key from the dir object backend under dataDir.
func ReadObject(dataDir, uri string) (string, error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", fmt.Errorf("not an s3:// URI: %q", uri)
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "objects", filepath.FromSlash(rest)))
	return string(b), err
}

// Totals sums the operations: requests, errors and 5xx answers.
func (r *Result) Totals() (requests, errs, status5xx int) {
	for _, s := range r.Ops {
		requests += s.Requests
		errs += s.Errors
		status5xx += s.Status5xx
	}
	return
}

// Completed counts the calculations that ended COMPLETED.
func (r *Result) Completed() int {
	n := 0
	for _, c := range r.Calcs {
		if c.Final == string(types.CalculationExecutionStateCompleted) {
			n++
		}
	}
	return n
}

// MemoryAfterWarmUp splits the samples taken after the warm-up into thirds and returns the
// highest RSS of the first third (the baseline) and of the last. Peaks, not single samples:
// Go's heap is a sawtooth between collections, and its highs are what grows with a leak.
func (r *Result) MemoryAfterWarmUp() (base, last int64) {
	var after []Sample
	for _, s := range r.Samples {
		if s.At >= r.Config.WarmUp {
			after = append(after, s)
		}
	}
	if len(after) < 3 {
		return 0, 0
	}
	third := len(after) / 3
	for _, s := range after[:third] {
		base = max(base, s.RSS)
	}
	for _, s := range after[len(after)-third:] {
		last = max(last, s.RSS)
	}
	return base, last
}

// Table is the per-operation report, as Markdown.
func (r *Result) Table() string {
	var b strings.Builder
	b.WriteString("| operation | requests | errors | 5xx | p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, name := range Operations {
		s := r.Ops[name]
		if s == nil {
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s | %s | %s |\n", name, s.Requests, s.Errors, s.Status5xx, ms(s.P50), ms(s.P99), ms(s.Max))
	}
	req, errs, s5 := r.Totals()
	fmt.Fprintf(&b, "| **all** | %d | %d | %d | | | |\n", req, errs, s5)
	return b.String()
}

// MemoryTable is glaux's memory and the work done, every step (rows closest to each step).
func (r *Result) MemoryTable(step time.Duration) string {
	var b strings.Builder
	b.WriteString("| time | glaux RSS | threads | open fds | glaux.db + WAL | requests/s since previous row | calculations completed |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	var prev *Sample
	next := time.Duration(0)
	for i := range r.Samples {
		s := &r.Samples[i]
		if s.At < next && i != len(r.Samples)-1 {
			continue
		}
		rate := "–"
		if prev != nil && s.At > prev.At {
			rate = fmt.Sprintf("%.0f", float64(s.Requests-prev.Requests)/(s.At-prev.At).Seconds())
		}
		fmt.Fprintf(&b, "| %s | %.1f MiB | %d | %d | %.1f MiB | %s | %d |\n", s.At.Round(time.Second), float64(s.RSS)/(1<<20), s.Threads, s.FDs, float64(s.DBBytes)/(1<<20), rate, s.Completed)
		prev = s
		for next <= s.At {
			next += step
		}
	}
	return b.String()
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
