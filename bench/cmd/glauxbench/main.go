// Command glauxbench is bench/run's driver: it measures glaux against baselines started in
// the same run (moto's server mode, a bare PySpark driver) and writes the results table into
// bench/README.md. Run it through bench/run, which builds glaux and finds the Python.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	glaux, python, script, readme, work string
	warmup, duration                    time.Duration
	clients                             []int
	sessionRuns, trivialRuns, jobRuns   int
	jobs, jobRows                       []string
	skipAPI, skipSpark, protocolsOnly   bool
	connectOnly                         bool
	quietWait                           time.Duration
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == floorFlag {
		os.Exit(floorServer(os.Args[2]))
	}
	var o options
	var clients, jobs string
	flag.StringVar(&o.glaux, "glaux", "", "the glaux binary to measure (required)")
	flag.StringVar(&o.python, "python", "", "Python with pyspark, boto3 and moto[server] (required)")
	flag.StringVar(&o.script, "baseline-script", "bench/pyspark_baseline.py", "the bare PySpark driver")
	flag.StringVar(&o.readme, "readme", "bench/README.md", "where to write the results table (between its markers); empty: stdout only")
	flag.StringVar(&o.work, "work-dir", "", "scratch directory for data dirs and logs (default: a new temp dir, removed unless the run fails)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warm-up before each throughput measurement")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each throughput measurement")
	flag.StringVar(&clients, "clients", "1,50", "concurrent clients of the throughput runs")
	flag.IntVar(&o.sessionRuns, "session-runs", 3, "StartSession -> IDLE runs (and bare driver starts)")
	flag.IntVar(&o.trivialRuns, "trivial-runs", 50, "runs of the trivial calculation")
	flag.IntVar(&o.jobRuns, "job-runs", 9, "runs of each Spark job (after two warm-up runs)")
	flag.StringVar(&jobs, "jobs", "30_000_000,300_000_000,1_000", "row counts of the Spark jobs spark.range(0, N).selectExpr('sum(id % 7)').first()")
	flag.DurationVar(&o.quietWait, "quiet-wait", 3*time.Minute, "how long to wait, before each part, for other work on the machine to stop")
	flag.BoolVar(&o.skipAPI, "skip-api", false, "skip the API throughput and status poll parts (the README is then not written)")
	flag.BoolVar(&o.skipSpark, "skip-spark", false, "skip the real-Spark part (the README is then not written)")
	flag.BoolVar(&o.protocolsOnly, "protocols-only", false, "run only the protocol part (GetWorkGroup through AWS JSON 1.1 and restJson1; the README is then not written)")
	flag.BoolVar(&o.connectOnly, "connect-only", false, "run only the Spark Connect part (the README is then not written)")
	flag.Parse()
	if o.glaux == "" || o.python == "" {
		fmt.Fprintln(os.Stderr, "usage: glauxbench --glaux BIN --python PY [flags]  (normally run as bench/run)")
		os.Exit(2)
	}
	for _, s := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: bad --clients %q\n", clients)
			os.Exit(2)
		}
		o.clients = append(o.clients, n)
	}
	for _, n := range strings.Split(jobs, ",") {
		o.jobRows = append(o.jobRows, strings.TrimSpace(n))
		o.jobs = append(o.jobs, fmt.Sprintf("spark.range(0, %s).selectExpr('sum(id %% 7)').first()", strings.TrimSpace(n)))
	}
	if o.skipAPI || o.skipSpark || o.protocolsOnly || o.connectOnly {
		o.readme = ""
	}
	os.Exit(run(o))
}

func run(o options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer stopAll()
	go func() {
		<-ctx.Done() // Ctrl-C: stopping what runs also unblocks whatever waits for it
		stopAll()
	}()

	keep := o.work != ""
	if o.work == "" {
		d, err := os.MkdirTemp("", "glaux-bench-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		o.work = d
	} else if err := os.MkdirAll(o.work, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	// Passable (not listable) by other users: glaux may run session runners as another user
	// (--runner-user), and they must reach the data dirs inside.
	if err := os.Chmod(o.work, 0o711); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	o.script = mustAbs(o.script)
	logf("scratch and logs in %s", o.work)

	res := &results{Options: o, Started: time.Now()}
	res.Machine = machine(o.python)
	logf("machine: %s", res.Machine)
	err := measure(ctx, o, res)
	stopAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: FAILED:", err)
		fmt.Fprintln(os.Stderr, "bench: logs kept in", o.work)
		return 1
	}
	res.Elapsed = time.Since(res.Started)
	table := res.markdown()
	fmt.Println(table)
	if o.readme != "" {
		if err := writeReadme(o.readme, table); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		logf("results written to %s", o.readme)
	}
	if !keep {
		os.RemoveAll(o.work)
	}
	return 0
}

func measure(ctx context.Context, o options, res *results) error {
	res.LoadStart = loadAvg()
	if o.protocolsOnly || o.connectOnly {
		o.skipAPI, o.skipSpark = true, true
	}
	if (!o.skipAPI || o.protocolsOnly) && !o.connectOnly {
		res.Busy = append(res.Busy, busySample{"before the protocol part", waitQuiet("the protocol part", o.quietWait)})
		if err := protocolPart(ctx, o, res); err != nil {
			return fmt.Errorf("protocols: %w", err)
		}
	}
	if !o.skipAPI {
		res.Busy = append(res.Busy, busySample{"before part 1", waitQuiet("the API parts", o.quietWait)})
		if err := apiPart(ctx, o, res); err != nil {
			return fmt.Errorf("API throughput: %w", err)
		}
	}
	if !o.skipSpark {
		res.Busy = append(res.Busy, busySample{"before part 3", waitQuiet("the real-Spark part", o.quietWait)})
		if err := sparkPart(ctx, o, res); err != nil {
			return fmt.Errorf("real Spark: %w", err)
		}
		stopAll()
		if err := warmPart(ctx, o, res); err != nil {
			return fmt.Errorf("real Spark, warm pool: %w", err)
		}
	}
	if !o.skipSpark || o.connectOnly {
		stopAll()
		res.Busy = append(res.Busy, busySample{"before part 4", waitQuiet("the Spark Connect part", o.quietWait)})
		if err := connectPart(ctx, o, res); err != nil {
			return fmt.Errorf("Spark Connect: %w", err)
		}
	}
	stopAll()
	res.Busy = append(res.Busy, busySample{"after the run", machineBusy(2 * time.Second)})
	res.LoadEnd = loadAvg()
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// apiPart is parts 1 and 2: workgroup reads against glaux (--fake-spark) and moto, then
// status polls against the same glaux.
func apiPart(ctx context.Context, o options, res *results) error {
	g, gEP, err := startGlaux(o.glaux, o.python, filepath.Join(o.work, "glaux-fake"), filepath.Join(o.work, "glaux-fake.log"),
		[]string{"--fake-spark", "--warm-pool", "0"}, nil)
	if err != nil {
		return err
	}
	defer g.terminate(30 * time.Second)
	m, mEP, err := startMoto(o.python, o.work, filepath.Join(o.work, "moto.log"))
	if err != nil {
		return err
	}
	defer m.terminate(10 * time.Second)
	logf("glaux (--fake-spark) at %s, moto at %s", gEP, mEP)

	const wg = "bench"
	gc, mc := newClient(gEP), newClient(mEP)
	for _, c := range []*client{gc, mc} {
		if err := c.call(ctx, "CreateWorkGroup", sparkWorkGroup(wg), nil); err != nil {
			return fmt.Errorf("%s: %w", c.endpoint, err)
		}
		// Both must answer the same request the same way before their speed means anything.
		var got struct{ WorkGroup struct{ Name, State string } }
		if err := c.call(ctx, "GetWorkGroup", map[string]string{"WorkGroup": wg}, &got); err != nil {
			return fmt.Errorf("%s: %w", c.endpoint, err)
		}
		var list struct{ WorkGroups []struct{ Name string } }
		if err := c.call(ctx, "ListWorkGroups", map[string]any{}, &list); err != nil {
			return fmt.Errorf("%s: %w", c.endpoint, err)
		}
		if got.WorkGroup.Name != wg || len(list.WorkGroups) != 2 {
			return fmt.Errorf("%s: GetWorkGroup answered %+v, ListWorkGroups %+v", c.endpoint, got, list)
		}
	}

	bodies := []struct {
		op   string
		body string
	}{
		{"GetWorkGroup", `{"WorkGroup":"bench"}`},
		{"ListWorkGroups", `{}`},
	}
	// The floor server answers with glaux's own bytes.
	answers := map[string]string{}
	for _, b := range bodies {
		var raw json.RawMessage
		if err := gc.call(ctx, b.op, json.RawMessage(b.body), &raw); err != nil {
			return err
		}
		answers[b.op] = string(raw)
	}
	f, fEP, err := startFloor(o.work, answers)
	if err != nil {
		return err
	}
	defer f.terminate(10 * time.Second)

	for _, b := range bodies {
		for _, n := range o.clients {
			row := apiRow{Op: b.op, Clients: n}
			for _, t := range []struct {
				name, endpoint string
				into           *loadResult
			}{{"glaux", gEP, &row.Glaux}, {"moto", mEP, &row.Moto}, {"floor", fEP, &row.Floor}} {
				what := fmt.Sprintf("%s, %d clients, %s", b.op, n, t.name)
				err := quietly(ctx, what, func() (float64, error) {
					logf("%s", what)
					*t.into = runLoad(ctx, t.endpoint, b.op, []byte(b.body), n, o.warmup, o.duration)
					logf("  %s", *t.into)
					return t.into.Other, nil
				})
				if err != nil {
					return err
				}
			}
			res.API = append(res.API, row)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	m.terminate(10 * time.Second)
	f.terminate(10 * time.Second)

	// Part 2: a session and a finished calculation to poll.
	session, err := gc.startSession(ctx, wg)
	if err != nil {
		return err
	}
	if _, _, err := gc.waitSession(ctx, session, 10*time.Millisecond, time.Minute, "IDLE"); err != nil {
		return err
	}
	calc, _, err := gc.runCalculation(ctx, session, "1+1", 10*time.Millisecond, time.Minute)
	if err != nil {
		return err
	}
	// For reading (3b): the same round trip without Spark (the runner's IPython shell, glaux's
	// bookkeeping and the polling, but no py4j/JVM).
	err = quietly(ctx, "1+1 on --fake-spark", func() (float64, error) {
		var m *meter
		res.FakeTrivial = nil
		for i := -3; i < o.trivialRuns; i++ {
			if i == 0 {
				m = startMeter()
			}
			_, d, err := gc.runCalculation(ctx, session, "1+1", 0, time.Minute)
			if err != nil {
				return 0, err
			}
			if i >= 0 {
				res.FakeTrivial = append(res.FakeTrivial, d)
			}
		}
		res.FakeTrivialOther = m.other()
		return res.FakeTrivialOther, nil
	})
	if err != nil {
		return err
	}
	logf("1+1 on --fake-spark: p50 %s", fmtDur(median(res.FakeTrivial)))
	polls := []struct{ op, body string }{
		{"GetSessionStatus", fmt.Sprintf(`{"SessionId":%q}`, session)},
		{"GetCalculationExecutionStatus", fmt.Sprintf(`{"CalculationExecutionId":%q}`, calc)},
	}
	for _, p := range polls {
		for _, n := range o.clients {
			what := fmt.Sprintf("%s, %d clients, glaux", p.op, n)
			var r loadResult
			err := quietly(ctx, what, func() (float64, error) {
				logf("%s", what)
				r = runLoad(ctx, gEP, p.op, []byte(p.body), n, o.warmup, o.duration)
				logf("  %s", r)
				return r.Other, nil
			})
			if err != nil {
				return err
			}
			res.Polls = append(res.Polls, pollRow{Op: p.op, Clients: n, R: r})
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	gc.call(ctx, "TerminateSession", map[string]string{"SessionId": session}, nil)
	return nil
}

func (r loadResult) String() string {
	s := fmt.Sprintf("%.0f req/s, p50 %s, p99 %s, %d errors", r.RPS(), fmtDur(r.P50), fmtDur(r.P99), r.Errors)
	if r.FirstErr != "" {
		s += " (first: " + r.FirstErr + ")"
	}
	return s
}

// sparkPart is part 3: a real-Spark glaux against a bare PySpark driver, alternating.
func sparkPart(ctx context.Context, o options, res *results) error {
	const memory, master = "1024m", "local[1]" // what glaux gives a 1-DPU session by default
	// No warm pool here: its background refills would run JVM starts during the measurements.
	g, ep, err := startGlaux(o.glaux, o.python, filepath.Join(o.work, "glaux-spark"), filepath.Join(o.work, "glaux-spark.log"),
		[]string{"--warm-pool", "0"}, nil)
	if err != nil {
		return err
	}
	defer g.terminate(60 * time.Second)
	logf("glaux (real Spark) at %s", ep)
	c := newClient(ep)
	const wg = "bench"
	if err := c.call(ctx, "CreateWorkGroup", sparkWorkGroup(wg), nil); err != nil {
		return err
	}
	bareDir := filepath.Join(o.work, "bare")
	if err := os.MkdirAll(bareDir, 0o700); err != nil {
		return err
	}
	sp := &res.Spark

	// The working pair: a bare driver and a session, started untimed (they also warm the page
	// cache for the timed starts below), for (d), (b) and (c) in turn.
	bare, err := startBare(o.python, o.script, bareDir, filepath.Join(o.work, "bare-work.log"), master, memory)
	if err != nil {
		return err
	}
	defer bare.quit()
	session, err := c.startSession(ctx, wg)
	if err != nil {
		return err
	}
	if _, _, err := c.waitSession(ctx, session, 10*time.Millisecond, 4*time.Minute, "IDLE"); err != nil {
		return err
	}

	// (d) Memory with both idle.
	time.Sleep(2 * time.Second)
	sp.IdleRSS = measureRSS(g, bare)
	logf("RSS idle: %+v", sp.IdleRSS)

	// (b) The trivial calculation, polled as fast as one client can.
	const trivial = "1+1"
	for range 3 { // warm-up
		if _, _, err := c.runCalculation(ctx, session, trivial, 0, time.Minute); err != nil {
			return err
		}
	}
	if _, err := bare.exec(trivial, 3); err != nil {
		return err
	}
	err = quietly(ctx, "1+1", func() (float64, error) {
		m := startMeter()
		sp.GlauxTrivial = nil
		for range o.trivialRuns {
			_, d, err := c.runCalculation(ctx, session, trivial, 0, time.Minute)
			if err != nil {
				return 0, err
			}
			sp.GlauxTrivial = append(sp.GlauxTrivial, d)
		}
		var err error
		if sp.BareTrivial, err = bare.exec(trivial, o.trivialRuns); err != nil {
			return 0, err
		}
		sp.TrivialOther = m.other()
		return sp.TrivialOther, nil
	})
	if err != nil {
		return err
	}
	logf("1+1: glaux p50 %s, bare p50 %s", fmtDur(median(sp.GlauxTrivial)), fmtDur(median(sp.BareTrivial)))

	// (c) The Spark jobs: two warm-up runs each side per job (JIT), then alternating runs. Polling
	// every 5 ms bounds the observation error far below the job time without taking a core
	// from Spark.
	for j, job := range o.jobs {
		jr := jobResult{Code: job, Rows: o.jobRows[j]}
		first := -2 // warm-up runs: the JIT compiles again for each data size
		for i := first; i < o.jobRuns; i++ {
			var bd, gd time.Duration
			var other float64
			err := quietly(ctx, fmt.Sprintf("job %d run %d", j+1, i+1), func() (float64, error) {
				m := startMeter()
				runBare := func() error {
					time.Sleep(300 * time.Millisecond) // let the other JVM finish its after-job work
					b, err := bare.exec(job, 1)
					if err == nil {
						bd = b[0]
					}
					return err
				}
				runGlaux := func() (err error) {
					time.Sleep(300 * time.Millisecond)
					_, gd, err = c.runCalculation(ctx, session, job, 5*time.Millisecond, 5*time.Minute)
					return err
				}
				first, second := runBare, runGlaux
				if i%2 != 0 { // alternate who goes first: the second shares the machine with the first's JIT and GC
					first, second = runGlaux, runBare
				}
				if err := first(); err != nil {
					return 0, err
				}
				if err := second(); err != nil {
					return 0, err
				}
				other = m.other()
				logf("job %d run %d: bare %s, glaux %s", j+1, i+1, fmtDur(bd), fmtDur(gd))
				if i < 0 {
					return 0, nil // warm-up
				}
				return other, nil
			})
			if err != nil {
				return err
			}
			if i >= 0 {
				jr.Bare = append(jr.Bare, bd)
				jr.Glaux = append(jr.Glaux, gd)
				jr.Other = max(jr.Other, other)
			}
		}
		sp.Jobs = append(sp.Jobs, jr)
	}
	sp.BusyRSS = measureRSS(g, bare)
	logf("RSS after the calculations: %+v", sp.BusyRSS)

	bare.quit()
	if err := terminateSession(ctx, c, g, session, 0); err != nil {
		return err
	}

	// (a) Timed starts, alternating, each torn down before the next.
	for i := range o.sessionRuns {
		var bareStart, glauxStart time.Duration
		var bareOther, glauxOther float64
		measureBare := func() error {
			return quietly(ctx, fmt.Sprintf("bare PySpark start %d", i+1), func() (float64, error) {
				m := startMeter()
				b, err := startBare(o.python, o.script, bareDir, filepath.Join(o.work, fmt.Sprintf("bare-%d.log", i)), master, memory)
				if err != nil {
					return 0, err
				}
				bareOther = m.other()
				b.quit()
				bareStart = b.Startup
				logf("bare PySpark start %d: %s", i+1, fmtDur(bareStart))
				return bareOther, nil
			})
		}
		measureGlaux := func() error {
			return quietly(ctx, fmt.Sprintf("glaux StartSession %d", i+1), func() (float64, error) {
				m := startMeter()
				start := time.Now()
				id, err := c.startSession(ctx, wg)
				if err != nil {
					return 0, err
				}
				_, seen, err := c.waitSession(ctx, id, 10*time.Millisecond, 4*time.Minute, "IDLE")
				if err != nil {
					return 0, err
				}
				glauxStart, glauxOther = seen.Sub(start), m.other()
				logf("glaux StartSession -> IDLE %d: %s", i+1, fmtDur(glauxStart))
				return glauxOther, terminateSession(ctx, c, g, id, 0)
			})
		}
		first, second := measureBare, measureGlaux
		if i%2 != 0 { // alternate who goes first (page cache, the previous JVM's exit)
			first, second = measureGlaux, measureBare
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		sp.BareStart = append(sp.BareStart, bareStart)
		sp.GlauxStart = append(sp.GlauxStart, glauxStart)
		sp.StartOther = max(sp.StartOther, bareOther, glauxOther)
	}
	return nil
}

// terminateSession ends a session and waits until its runner and JVM are gone (glaux is
// left with keep runners: its warm pool), so the next measurement does not share the
// machine with them.
func terminateSession(ctx context.Context, c *client, g *proc, id string, keep int) error {
	if err := c.call(ctx, "TerminateSession", map[string]string{"SessionId": id}, nil); err != nil {
		return err
	}
	if _, _, err := c.waitSession(ctx, id, 50*time.Millisecond, time.Minute, "TERMINATED"); err != nil {
		return err
	}
	for deadline := time.Now().Add(time.Minute); len(runners(g.pid())) > keep; {
		if time.Now().After(deadline) {
			return errors.New("the terminated session's processes are still running after a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// warmPart measures glaux as it runs by default, with a warm pool of one runner: what the
// pooled runner costs in memory, and StartSession -> IDLE when it takes a pooled runner.
func warmPart(ctx context.Context, o options, res *results) error {
	g, ep, waitReady, err := startWarmGlaux(ctx, o, "glaux-warm")
	if err != nil {
		return err
	}
	defer g.terminate(60 * time.Second)
	logf("glaux (real Spark, --warm-pool 1) at %s", ep)
	c := newClient(ep)
	const wg = "bench"
	if err := c.call(ctx, "CreateWorkGroup", sparkWorkGroup(wg), nil); err != nil {
		return err
	}
	sp := &res.Spark
	if err := waitReady(); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	var parts []string
	sp.PoolRSS.Glaux = rssKB(g.pid())
	for _, d := range descendants(g.pid()) {
		k := rssKB(d.pid)
		sp.PoolRSS.Session += k
		if k > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", d.comm, k/1024))
		}
	}
	sp.PoolRSS.SessionParts = strings.Join(parts, " + ")
	logf("RSS with an idle warm runner: %+v", sp.PoolRSS)
	refilled := true // the first runner is ready
	for i := range o.sessionRuns {
		var d time.Duration
		var other float64
		err := quietly(ctx, fmt.Sprintf("glaux StartSession from the warm pool %d", i+1), func() (float64, error) {
			if !refilled {
				if err := waitReady(); err != nil {
					return 0, err
				}
				time.Sleep(time.Second)
			}
			m := startMeter()
			start := time.Now()
			id, err := c.startSession(ctx, wg)
			if err != nil {
				return 0, err
			}
			refilled = false // taking the pooled runner starts a new one
			_, seen, err := c.waitSession(ctx, id, 10*time.Millisecond, 4*time.Minute, "IDLE")
			if err != nil {
				return 0, err
			}
			d, other = seen.Sub(start), m.other()
			logf("glaux StartSession -> IDLE from the warm pool %d: %s", i+1, fmtDur(d))
			return other, terminateSession(ctx, c, g, id, 1)
		})
		if err != nil {
			return err
		}
		sp.WarmStart = append(sp.WarmStart, d)
		sp.WarmOther = max(sp.WarmOther, other)
	}
	return nil
}

// startWarmGlaux starts a real-Spark glaux with a warm pool of one runner; waitReady returns
// when the next "warm runner ready" is logged.
func startWarmGlaux(ctx context.Context, o options, name string) (g *proc, ep string, waitReady func() error, err error) {
	ready := make(chan struct{}, 16)
	g, ep, err = startGlaux(o.glaux, o.python, filepath.Join(o.work, name), filepath.Join(o.work, name+".log"),
		[]string{"--warm-pool", "1", "--log-level", "info"}, func(line string) {
			if strings.Contains(line, "warm runner ready") {
				select {
				case ready <- struct{}{}:
				default:
				}
			}
		})
	if err != nil {
		return nil, "", nil, err
	}
	waitReady = func() error {
		select {
		case <-ready:
			return nil
		case <-g.done:
			return errors.New("glaux exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(4 * time.Minute):
			return errors.New(`no "warm runner ready" in glaux's log within 4 minutes`)
		}
	}
	return g, ep, waitReady, nil
}

// rss is a memory snapshot in KiB.
type rss struct {
	Glaux, Session, Bare    int64 // glaux itself; its session's runner + JVM; bare python + JVM
	SessionParts, BareParts string
}

func measureRSS(g *proc, bare *bareDriver) rss {
	var r rss
	r.Glaux = rssKB(g.pid())
	var parts []string
	for _, d := range descendants(g.pid()) {
		k := rssKB(d.pid)
		r.Session += k
		if k > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", d.comm, k/1024))
		}
	}
	r.SessionParts = strings.Join(parts, " + ")
	r.Bare, r.BareParts = treeRSS(bare.p.pid())
	return r
}

func pythonVersions(python string) map[string]string {
	out := map[string]string{}
	code := `import json, platform, importlib.metadata as m
v = {"python": platform.python_version()}
for p in ("pyspark", "moto", "boto3"):
    try: v[p] = m.version(p)
    except Exception: v[p] = "?"
print(json.dumps(v))`
	b, err := runOutput(python, "-c", code)
	if err == nil {
		json.Unmarshal(b, &out)
	}
	return out
}
