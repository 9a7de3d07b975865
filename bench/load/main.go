// Command load is glaux's load test in its few-minutes version (TestLoadShort in cmd/glaux is
// the short tier of the same load, bench/load/loadgen): it builds glaux, starts it on
// loopback with fake-Spark sessions, runs 50 SigV4 clients polling and listing while sessions
// run calculations and notebooks are saved, checks that nothing acknowledged was lost, and
// writes latency, counts, errors and glaux's memory over time into bench/load/README.md.
//
//	go run ./bench/load -duration 3m          (from the repository root; bench/load/run does it)
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"

	"glaux/bench/load/loadgen"
)

func main() {
	var cfg loadgen.Config
	flag.DurationVar(&cfg.Duration, "duration", 3*time.Minute, "how long the load runs")
	flag.DurationVar(&cfg.WarmUp, "warmup", 30*time.Second, "start of the run left out of the latencies and of the memory baseline")
	flag.IntVar(&cfg.Clients, "clients", 50, "polling and listing clients")
	flag.IntVar(&cfg.Sessions, "sessions", 3, "fake-Spark sessions running calculations continuously")
	flag.IntVar(&cfg.InFlight, "inflight", 2, "unfinished calculations per session at any time")
	flag.IntVar(&cfg.Notebooks, "notebooks", 2, "notebooks saved continuously")
	flag.DurationVar(&cfg.Sample, "sample", time.Second, "how often glaux's memory is sampled")
	step := flag.Duration("table-step", 15*time.Second, "time between rows of the memory table")
	glaux := flag.String("glaux", "", "glaux binary (default: go build ./cmd/glaux into the work dir)")
	python := flag.String("python", os.Getenv("GLAUX_PYTHON"), "Python with IPython for the fake-Spark runners (default $GLAUX_PYTHON)")
	readme := flag.String("readme", "bench/load/README.md", "file whose results section is rewritten; empty: print only")
	workDir := flag.String("work-dir", "", "keep glaux's data dir and log here (default: a temp dir, removed)")
	flag.Parse()
	if *python == "" {
		fatal("set --python or GLAUX_PYTHON to a Python with IPython (scripts/pyenv.sh prints one)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, cfg, *step, *glaux, *python, *readme, *workDir))
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
	os.Exit(2)
}

func run(ctx context.Context, cfg loadgen.Config, step time.Duration, glaux, python, readme, workDir string) int {
	keep := workDir != ""
	if !keep {
		d, err := os.MkdirTemp("", "glaux-load-")
		if err != nil {
			fatal("%v", err)
		}
		workDir = d
		defer os.RemoveAll(workDir)
	}
	if glaux == "" {
		glaux = filepath.Join(workDir, "glaux")
		build := exec.CommandContext(ctx, "go", "build", "-o", glaux, "./cmd/glaux")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "load: go build ./cmd/glaux (run from the repository root):", err)
			return 2
		}
	}
	dataDir := filepath.Join(workDir, "data")
	srv, err := startGlaux(glaux, python, dataDir, filepath.Join(workDir, "glaux.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 2
	}
	defer srv.stop()
	fmt.Fprintf(os.Stderr, "load: glaux (pid %d) at %s; %d clients, %d sessions, %d notebooks for %s (warm-up %s)\n",
		srv.cmd.Process.Pid, srv.endpoint, cfg.Clients, cfg.Sessions, cfg.Notebooks, cfg.Duration, cfg.WarmUp)
	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey = srv.endpoint, "test", "test"
	cfg.DataDir, cfg.Pid = dataDir, srv.cmd.Process.Pid
	cfg.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	started := time.Now()
	before := readCPU(cfg.Pid)
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 1
	}
	report, ok := render(res, step, started, before.until(readCPU(cfg.Pid)))
	fmt.Print(report)
	if readme != "" && ctx.Err() == nil {
		if err := writeResults(readme, report); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "load: results written to %s\n", readme)
	}
	if keep {
		fmt.Fprintf(os.Stderr, "load: data dir and log kept in %s\n", workDir)
	}
	if !ok {
		return 1
	}
	return 0
}

// server is the glaux under load.
type server struct {
	cmd      *exec.Cmd
	endpoint string
	exited   chan struct{}
	log      *os.File
}

var endpointLine = regexp.MustCompile(`--endpoint-url (http://127\.0\.0\.1:\d+)`)

// startGlaux starts glaux on a loopback port the kernel picks and reads the endpoint from
// the hint it prints on stderr; the rest of its output goes to logPath.
func startGlaux(bin, python, dataDir, logPath string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--fake-spark", "--python", python,
		"--warm-pool", "0", "--s3-addr=", "--runner-user=", "--memory-per-dpu", "512", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "GLAUX_CREDENTIALS=", "GLAUX_CREDENTIALS_FILE=")
	cmd.Stdout = logf
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, exited: make(chan struct{}), log: logf}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if m := endpointLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(logf, pipe)
	}()
	go func() { cmd.Wait(); close(s.exited) }()
	select {
	case s.endpoint = <-found:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("glaux exited before serving; its log is %s", logPath)
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("glaux did not serve within 30s; its log is %s", logPath)
	}
}

// stop ends glaux (SIGTERM; SIGKILL after 60s). glaux stops its session runners itself.
func (s *server) stop() {
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(60 * time.Second):
			fmt.Fprintln(os.Stderr, "load: glaux did not stop within 60s of SIGTERM; killing it")
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	s.log.Close()
}

// render is the results section: the machine, the run, the tables, and whether it passed
// (no failed request, nothing lost, memory flat after warm-up).
func render(res *loadgen.Result, step time.Duration, started time.Time, cpu string) (string, bool) {
	var b strings.Builder
	cfg := res.Config
	req, errs, s5 := res.Totals()
	fmt.Fprintf(&b, "Run %s, %s.\n\n", started.UTC().Format("2006-01-02 15:04 MST"), commit())
	fmt.Fprintf(&b, "Machine: %s.\n\n", machine())
	fmt.Fprintf(&b, "CPU during the run: %s.\n\n", cpu)
	fmt.Fprintf(&b, "Load: %d clients polling and listing back to back, %d fake-Spark sessions with %d calculations in flight each, %d notebooks saved back to back; %s, of which the first %s is warm-up (left out of the latencies).\n\n",
		cfg.Clients, cfg.Sessions, cfg.InFlight, cfg.Notebooks, cfg.Duration, cfg.WarmUp)
	fmt.Fprintf(&b, "**%d requests** in %s (%.0f/s), **%d errors, %d 5xx**; %d calculations acknowledged, %d COMPLETED, %d not final at the end; notebook versions saved: %s.\n\n",
		req, res.Elapsed.Round(time.Second), float64(req)/res.Elapsed.Seconds(), errs, s5, len(res.Calcs), res.Completed(), res.Unfinished, versions(res))
	ok := errs == 0 && res.Unfinished == 0 && len(res.Problems) == 0
	if res.VerifyRetries > 0 {
		fmt.Fprintf(&b, "%d of the checks' reads after the load got no complete answer and were retried (see the log).\n\n", res.VerifyRetries)
	}
	if len(res.Problems) == 0 {
		b.WriteString("Checked afterwards: every acknowledged calculation listed exactly once by ListCalculationExecutions, COMPLETED, its stdout object exactly its own marker; every notebook exports its last saved version. **No problems.**\n\n")
	} else {
		b.WriteString("Checked afterwards — **problems**:\n\n")
		for _, p := range res.Problems {
			fmt.Fprintf(&b, "- %s\n", p)
		}
		b.WriteString("\n")
	}
	b.WriteString("Latency is from the client's call (signing included) to the decoded answer, after the warm-up; nearest-rank percentiles. Requests, errors and 5xx are over the whole run.\n\n")
	b.WriteString(res.Table())
	for _, name := range loadgen.Operations {
		if s := res.Ops[name]; s != nil && s.FirstErr != "" {
			fmt.Fprintf(&b, "\nFirst error of %s: `%s`\n", name, s.FirstErr)
		}
	}
	b.WriteString("\nglaux's process over time (RSS from /proc/PID/status; the fake-Spark runners are other processes):\n\n")
	b.WriteString(res.MemoryTable(step))
	base, last := res.MemoryAfterWarmUp()
	growth := last - base
	flat := growth <= max(base/4, 16<<20)
	verdict := "flat"
	if !flat {
		verdict = "**growing**"
		ok = false
	}
	fmt.Fprintf(&b, "\nMemory after warm-up: peak RSS %.1f MiB in the first third, %.1f MiB in the last third (%+.1f MiB): %s (bound: +max(25 %%, 16 MiB), as in TestLoadShort).\n",
		mib(base), mib(last), mib(growth), verdict)
	return b.String(), ok
}

func versions(res *loadgen.Result) string {
	var vs []string
	for _, v := range res.NotebookV {
		vs = append(vs, fmt.Sprint(v))
	}
	if len(vs) == 0 {
		return "none"
	}
	return strings.Join(vs, ", ")
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// machine is the line that says where the numbers come from.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%s, %d cores%s, Linux %s, %s", cpu, runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), runtime.Version())
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "glaux (commit unknown)"
	}
	c := "glaux " + strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

const (
	beginMarker = "<!-- bench/load results: begin -->"
	endMarker   = "<!-- bench/load results: end -->"
)

// writeResults replaces what is between the markers of path with report.
func writeResults(path, report string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s ... %s section", path, beginMarker, endMarker)
	}
	s = s[:i+len(beginMarker)] + "\n" + report + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}

// cpuTimes is a moment's CPU accounting: the machine's (/proc/stat), glaux's and this
// process's (/proc/PID/stat), in clock ticks.
type cpuTimes struct {
	at          time.Time
	busy, total int64
	glaux, self int64
	loadavg     string
}

func readCPU(pid int) cpuTimes {
	c := cpuTimes{at: time.Now(), glaux: procTicks(fmt.Sprint(pid)), self: procTicks("self")}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0]) // cpu user nice system idle iowait irq softirq steal
		for i, v := range f[1:] {
			var n int64
			fmt.Sscan(v, &n)
			if i < 8 {
				c.total += n
				if i != 3 && i != 4 {
					c.busy += n
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		c.loadavg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return c
}

// procTicks is a process's user+system time (fields 14 and 15 of /proc/PID/stat).
func procTicks(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // fields from 3 on
	var u, sy int64
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &sy)
	return u + sy
}

// until describes the CPU use between c and end, in cores.
func (c cpuTimes) until(end cpuTimes) string {
	const hz = 100 // USER_HZ
	secs := end.at.Sub(c.at).Seconds()
	cores := func(ticks int64) float64 { return float64(ticks) / hz / secs }
	total := end.total - c.total
	busyShare := 0.0
	if total > 0 {
		busyShare = float64(end.busy-c.busy) / float64(total)
	}
	machineBusy := busyShare * float64(runtime.NumCPU())
	g, self := cores(end.glaux-c.glaux), cores(end.self-c.self)
	return fmt.Sprintf("the machine %.0f %% busy (%.2f of %d cores): glaux %.2f cores, the load generator %.2f, the rest (fake-Spark runners and other work on the machine) %.2f; load average %s at the start, %s at the end",
		100*busyShare, machineBusy, runtime.NumCPU(), g, self, max(0, machineBusy-g-self), c.loadavg, end.loadavg)
}
