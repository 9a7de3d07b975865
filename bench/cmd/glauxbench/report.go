package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

type apiRow struct {
	Op                 string
	Clients            int
	Glaux, Moto, Floor loadResult
}

type pollRow struct {
	Op      string
	Clients int
	R       loadResult
}

type sparkResults struct {
	GlauxStart, BareStart     []time.Duration
	GlauxTrivial, BareTrivial []time.Duration
	Jobs                      []jobResult
	IdleRSS, BusyRSS          rss
	// Share of the machine other work took during the windows (max over runs).
	StartOther, TrivialOther, WarmOther float64
	// With the default warm pool of one runner.
	WarmStart []time.Duration
	PoolRSS   rss // glaux + its idle pooled runner, no session
}

type busySample struct {
	When string
	Busy float64
}

type jobResult struct {
	Code, Rows  string
	Glaux, Bare []time.Duration
	Other       float64
}

type results struct {
	Options   options
	Machine   string
	Started   time.Time
	Elapsed   time.Duration
	API       []apiRow
	Protocols []protoRow
	Polls     []pollRow
	Spark     sparkResults
	Connect   connectResults
	// Other work on the machine: CPU busy fractions sampled when nothing of this run ran,
	// and the load average at start and end.
	Busy               []busySample
	LoadStart, LoadEnd string
	// FakeTrivial is the `1+1` round trip on the --fake-spark server (no JVM).
	FakeTrivial      []time.Duration
	FakeTrivialOther float64
}

// Targets.
const (
	targetAPIRatio      = 10.0 // glaux/moto req/s
	targetPollRPS       = 5000 // with 50 clients
	targetStartRatio    = 1.2
	targetTrivialExtra  = 50 * time.Millisecond // p50 above plain Python
	targetJobRatio      = 1.05
	targetConnectRatio  = 1.1
	targetConnectStart  = 300 * time.Millisecond
	readmeBegin         = "<!-- bench/run results: begin -->"
	readmeEnd           = "<!-- bench/run results: end -->"
	readmeGeneratedNote = "<!-- written by bench/run; edits between these markers are overwritten -->"
)

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**MISSED**"
}

func (r *results) markdown() string {
	var b strings.Builder
	o := r.Options
	fmt.Fprintf(&b, "Run of %s, %s in all. Machine: %s.\n\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"), r.Elapsed.Round(time.Second), r.Machine)
	var busy []string
	noisy := false
	for _, s := range r.Busy {
		busy = append(busy, fmt.Sprintf("%.0f%% %s", 100*s.Busy, s.When))
		noisy = noisy || s.Busy >= quietBusy
	}
	fmt.Fprintf(&b, "Other work on the machine: CPU busy while nothing of this run ran %s; load average %s at the start, %s at the end; "+
		"during the measurement windows other work took at most %.0f%% of the machine (rows where it took more than %.0f%% are marked †).\n\n",
		strings.Join(busy, ", "), r.LoadStart, r.LoadEnd, 100*r.maxOther(), 100*otherLimit)
	noisy = noisy || r.maxOther() >= otherLimit
	if noisy {
		b.WriteString("**Warning: the machine was busy with other work during this run; the numbers below are not trustworthy. Rerun on a quiet machine.**\n\n")
	}

	if len(r.API) > 0 {
		fmt.Fprintf(&b, "**1. API throughput** (SigV4-signed, closed loop, %s per row after %s warm-up; glaux `--fake-spark`, moto `moto.server`; floor = Go net/http + glaux's SigV4 verifier + glaux's answer bytes, no work)\n\n", o.duration, o.warmup)
		b.WriteString("| operation | clients | glaux req/s | p50 | p99 | errors | moto req/s | p50 | p99 | errors | floor req/s | p50 | glaux/moto | target ≥ 10× | glaux/floor |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|\n")
		for _, a := range r.API {
			ratio := a.Glaux.RPS() / a.Moto.RPS()
			fmt.Fprintf(&b, "| %s | %d | %.0f%s | %s | %s | %d | %.0f%s | %s | %s | %d | %.0f%s | %s | %.1f× | %s | %.2f |\n",
				a.Op, a.Clients, a.Glaux.RPS(), mark(a.Glaux.Other), fmtDur(a.Glaux.P50), fmtDur(a.Glaux.P99), a.Glaux.Errors,
				a.Moto.RPS(), mark(a.Moto.Other), fmtDur(a.Moto.P50), fmtDur(a.Moto.P99), a.Moto.Errors,
				a.Floor.RPS(), mark(a.Floor.Other), fmtDur(a.Floor.P50), ratio,
				verdict(ratio >= targetAPIRatio && a.Glaux.Errors == 0), a.Glaux.RPS()/a.Floor.RPS())
		}
		b.WriteString("\n")
	}
	r.protocolsMarkdown(&b)
	if len(r.Polls) > 0 {
		fmt.Fprintf(&b, "**2. Status polls** (glaux `--fake-spark`, one IDLE session, one COMPLETED calculation; %s per row after %s warm-up)\n\n", o.duration, o.warmup)
		b.WriteString("| operation | clients | req/s | p50 | p99 | errors | target ≥ 5,000 req/s at 50 clients |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|---|\n")
		for _, p := range r.Polls {
			v := "—"
			if p.Clients == 50 {
				v = verdict(p.R.RPS() >= targetPollRPS && p.R.Errors == 0)
			}
			fmt.Fprintf(&b, "| %s | %d | %.0f%s | %s | %s | %d | %s |\n", p.Op, p.Clients, p.R.RPS(), mark(p.R.Other), fmtDur(p.R.P50), fmtDur(p.R.P99), p.R.Errors, v)
		}
		b.WriteString("\n")
		if len(r.FakeTrivial) > 0 {
			fs := sorted(r.FakeTrivial)
			fmt.Fprintf(&b, "For reading 3(b): on this `--fake-spark` server (runner and IPython, no JVM) the `1+1` round trip, polled back to back, is p50 %s, p99 %s (%d runs)%s.\n\n",
				fmtDur(percentile(fs, .5)), fmtDur(percentile(fs, .99)), len(fs), mark(r.FakeTrivialOther))
		}
	}
	s := r.Spark
	if len(s.GlauxStart) > 0 {
		b.WriteString("**3. Real Spark** (glaux session = 1 DPU: `local[1]`, driver memory 1024m, on a glaux with `--warm-pool 0` unless said otherwise; baseline = a bare Python process, same master and memory, in the same run)\n\n")
		b.WriteString("| measure | glaux | plain PySpark | glaux vs plain | target |\n")
		b.WriteString("|---|--:|--:|--:|---|\n")
		gs, bs := median(s.GlauxStart), median(s.BareStart)
		fmt.Fprintf(&b, "| (a) cold start (`--warm-pool 0`): StartSession → IDLE vs process start → `getOrCreate()`, median of %d (runs) | %s (%s)%s | %s (%s) | %.2f× | ≤ 1.2×: %s |\n",
			len(s.GlauxStart), fmtDur(gs), fmtList(s.GlauxStart), mark(s.StartOther), fmtDur(bs), fmtList(s.BareStart),
			ratio(gs, bs), verdict(ratio(gs, bs) <= targetStartRatio))
		if len(s.WarmStart) > 0 {
			ws := median(s.WarmStart)
			fmt.Fprintf(&b, "| (a) start from the warm pool (default `--warm-pool 1`), median of %d (runs) | %s (%s)%s | %s | %.3f× | — |\n",
				len(s.WarmStart), fmtDur(ws), fmtList(s.WarmStart), mark(s.WarmOther), fmtDur(bs), ratio(ws, bs))
		}
		gsorted, bsorted := sorted(s.GlauxTrivial), sorted(s.BareTrivial)
		g50, b50 := percentile(gsorted, .5), percentile(bsorted, .5)
		g99, b99 := percentile(gsorted, .99), percentile(bsorted, .99)
		fmt.Fprintf(&b, "| (b) `1+1` round trip p50, %d runs (glaux: Start… → COMPLETED seen by a client polling back to back) | %s%s | %s | +%s | ≤ +50 ms: %s |\n",
			len(s.GlauxTrivial), fmtDur(g50), mark(s.TrivialOther), fmtDur(b50), fmtDur(g50-b50), verdict(g50-b50 <= targetTrivialExtra))
		fmt.Fprintf(&b, "| (b) `1+1` round trip p99 | %s | %s | +%s | — |\n", fmtDur(g99), fmtDur(b99), fmtDur(g99-b99))
		for _, j := range s.Jobs {
			gj, bj := median(j.Glaux), median(j.Bare)
			target := "≤ 1.05×: " + verdict(ratio(gj, bj) <= targetJobRatio)
			if n, err := strconv.Atoi(strings.ReplaceAll(j.Rows, "_", "")); err == nil && n < 1_000_000 {
				target = "— (a trivial job: shows the fixed cost)"
			}
			fmt.Fprintf(&b, "| (c) Spark job `%s`, median of %d (runs) | %s (%s)%s | %s (%s) | %.3f× (%s) | %s |\n",
				j.Code, len(j.Glaux), fmtDur(gj), fmtList(j.Glaux), mark(j.Other), fmtDur(bj), fmtList(j.Bare), ratio(gj, bj), signed(gj-bj), target)
		}
		for _, m := range []struct {
			when string
			r    rss
		}{{"idle session, before any calculation", s.IdleRSS}, {"after (b) and (c)", s.BusyRSS}} {
			total := m.r.Glaux + m.r.Session
			fmt.Fprintf(&b, "| (d) RSS, %s: glaux + session (runner python + JVM) vs bare python + JVM | %s = %s + %s | %s | %.2f× (%s) | — |\n",
				m.when, fmtMiB(total), fmtMiB(m.r.Glaux), fmtMiB(m.r.Session), fmtMiB(m.r.Bare),
				float64(total)/float64(m.r.Bare), signedMiB(total-m.r.Bare))
		}
		if p := s.PoolRSS; p.Glaux > 0 {
			fmt.Fprintf(&b, "| (d) RSS of glaux with the default warm pool and no session: glaux + its idle pooled runner (python + JVM) | %s = %s + %s | — | — | — |\n",
				fmtMiB(p.Glaux+p.Session), fmtMiB(p.Glaux), fmtMiB(p.Session))
		}
		b.WriteString("\n")
	}
	if c := r.Connect; len(c.Glaux) > 0 {
		b.WriteString("**4. Spark Connect** (engine `Apache Spark version 3.5`, glaux as by default with `--warm-pool 1`, plaintext h2c; the pyspark[connect] client of the runtime; baseline = the same client against a bare Spark Connect server the bench starts in a plain driver, `local[1]`, 1024m)\n\n")
		b.WriteString("| measure | glaux | bare Spark Connect | glaux vs bare | target |\n")
		b.WriteString("|---|--:|--:|--:|---|\n")
		cs := median(c.Start)
		fmt.Fprintf(&b, "| StartSession sent → first Spark Connect answer through glaux (GetSessionEndpoint + a Config call), session from the warm pool, median of %d (runs) | %s (%s) | — | — | ≤ 0.3 s: %s |\n",
			len(c.Start), fmtDur(cs), fmtList(c.Start), verdict(cs <= targetConnectStart))
		g, bare := median(c.Glaux), median(c.Bare)
		fmt.Fprintf(&b, "| `%s` round trip, median of %d (alternating rounds of 10) | %s%s | %s | %.3f× (%s) | ≤ 1.1×: %s |\n",
			connectRoundTrip, len(c.Glaux), fmtDur(g), mark(c.Other), fmtDur(bare), ratio(g, bare), signed(g-bare), verdict(ratio(g, bare) <= targetConnectRatio))
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (r *results) maxOther() float64 {
	m := max(r.FakeTrivialOther, r.Spark.StartOther, r.Spark.TrivialOther, r.Spark.WarmOther, r.Connect.Other)
	for _, a := range r.API {
		m = max(m, a.Glaux.Other, a.Moto.Other, a.Floor.Other)
	}
	for _, p := range r.Polls {
		m = max(m, p.R.Other)
	}
	for _, p := range r.Protocols {
		m = max(m, p.JSON.Other, p.REST.Other)
	}
	for _, j := range r.Spark.Jobs {
		m = max(m, j.Other)
	}
	return m
}

// mark flags a number measured while other work took more than otherLimit of the machine.
func mark(other float64) string {
	if other >= otherLimit {
		return fmt.Sprintf(" † (%.0f%%)", 100*other)
	}
	return ""
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func sorted(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

func signed(d time.Duration) string {
	if d < 0 {
		return fmtDur(d)
	}
	return "+" + fmtDur(d)
}

func signedMiB(kb int64) string {
	if kb < 0 {
		return fmtMiB(kb)
	}
	return "+" + fmtMiB(kb)
}

func fmtMiB(kb int64) string { return fmt.Sprintf("%.0f MiB", float64(kb)/1024) }

func fmtList(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmtDur(d)
	}
	return strings.Join(parts, ", ")
}

// fmtDur prints a duration with 2-3 significant digits in a readable unit.
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDur(-d)
	case d < 100*time.Microsecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// machine describes where the run happened: cores, memory, CPU, versions, glaux revision.
func machine(python string) string {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		for _, line := range strings.Split(string(b), "\n") {
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				break
			}
		}
	}
	kernel := "?"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	java := "?"
	if b, err := exec.Command("java", "-version").CombinedOutput(); err == nil {
		java = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	v := pythonVersions(python)
	rev := "?"
	if b, err := runOutput("git", "rev-parse", "--short", "HEAD"); err == nil {
		rev = strings.TrimSpace(string(b))
		if st, err := runOutput("git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench"); err == nil && len(bytes.TrimSpace(st)) > 0 {
			rev += " + uncommitted changes"
		}
	}
	return fmt.Sprintf("%d cores (%s), %s RAM, Linux %s; %s, Python %s, PySpark %s, %s, moto %s, boto3 %s; glaux %s",
		runtime.NumCPU(), model, mem, kernel, runtime.Version(), v["python"], v["pyspark"], java, v["moto"], v["boto3"], rev)
}

func runOutput(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).Output()
}

// writeReadme puts table between the markers of path (appending them if missing).
func writeReadme(path, table string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	block := readmeBegin + "\n" + readmeGeneratedNote + "\n\n" + table + "\n\n" + readmeEnd
	text := string(old)
	i, j := strings.Index(text, readmeBegin), strings.Index(text, readmeEnd)
	if i >= 0 && j > i {
		text = text[:i] + block + text[j+len(readmeEnd):]
	} else {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += "\n" + block + "\n"
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
