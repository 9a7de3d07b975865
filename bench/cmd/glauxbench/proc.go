package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a process this benchmark started, in its own process group, with stdout and
// stderr in a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
	stop sync.Once
}

// procs are all processes started, stopped in reverse order by stopAll.
var (
	procsMu sync.Mutex
	procs   []*proc
)

// startProc starts cmd as a process-group leader; out receives stdout and stderr (each line
// also goes to the log file logPath).
func startProc(name string, cmd *exec.Cmd, logPath string, onLine func(string)) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// An *os.File, not an io.Writer: Wait must return when the process exits, even while a
	// child it left behind (a JVM) still holds the pipe.
	pr, pw, err := os.Pipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer logf.Close()
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if onLine != nil {
				onLine(sc.Text())
			}
		}
		io.Copy(logf, pr) // after an over-long line: keep draining
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	procsMu.Lock()
	procs = append(procs, p)
	procsMu.Unlock()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// terminate sends SIGTERM, waits up to grace, then SIGKILLs the process group. Descendants
// that left the group (glaux's session runners lead their own groups) and outlive it are
// killed too, by pid (checked against their start time, so a reused pid is never hit).
func (p *proc) terminate(grace time.Duration) {
	p.stop.Do(func() {
		if p.exited() {
			return
		}
		desc := descendants(p.pid())
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			fmt.Fprintf(os.Stderr, "bench: %s did not stop within %s after SIGTERM; killing it\n", p.name, grace)
			syscall.Kill(-p.pid(), syscall.SIGKILL)
			<-p.done
		}
		syscall.Kill(-p.pid(), syscall.SIGKILL) // anything left in its group
		deadline := time.Now().Add(grace)
		for _, d := range desc {
			for d.alive() && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if d.alive() {
				fmt.Fprintf(os.Stderr, "bench: pid %d (%s) outlived %s; killing it\n", d.pid, d.comm, p.name)
				syscall.Kill(d.pid, syscall.SIGKILL)
			}
		}
	})
}

func stopAll() {
	procsMu.Lock()
	ps := procs
	procsMu.Unlock()
	for i := len(ps) - 1; i >= 0; i-- {
		ps[i].terminate(30 * time.Second)
	}
}

// procInfo is one process from /proc.
type procInfo struct {
	pid, ppid int
	start     uint64 // start time in clock ticks since boot
	comm      string
}

func (pi procInfo) alive() bool {
	cur, err := readStat(pi.pid)
	return err == nil && cur.start == pi.start
}

func readStat(pid int) (procInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procInfo{}, err
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, s)
	}
	f := strings.Fields(s[closing+1:]) // f[0] = state (field 3), f[1] = ppid, f[19] = starttime
	if len(f) < 20 {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	start, _ := strconv.ParseUint(f[19], 10, 64)
	return procInfo{pid: pid, ppid: ppid, start: start, comm: s[open+1 : closing]}, nil
}

// descendants lists every process below pid (not pid itself).
func descendants(pid int) []procInfo {
	ents, _ := os.ReadDir("/proc")
	children := map[int][]procInfo{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pi, err := readStat(n); err == nil {
			children[pi.ppid] = append(children[pi.ppid], pi)
		}
	}
	var out []procInfo
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}

// rssKB is VmRSS of one process in KiB (0 if it is gone).
func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// treeRSS is the summed RSS (KiB) of pid and all its descendants, with a description.
func treeRSS(pid int) (int64, string) {
	total := rssKB(pid)
	parts := []string{}
	if self, err := readStat(pid); err == nil {
		parts = append(parts, fmt.Sprintf("%s %d MiB", self.comm, rssKB(pid)/1024))
	}
	for _, d := range descendants(pid) {
		r := rssKB(d.pid)
		total += r
		if r > 0 {
			parts = append(parts, fmt.Sprintf("%s %d MiB", d.comm, r/1024))
		}
	}
	return total, strings.Join(parts, " + ")
}

var endpointRE = regexp.MustCompile(`(?:endpoint=|--endpoint-url )(http://[0-9.]+:[0-9]+)`)

// startGlaux runs `glaux serve` on 127.0.0.1:0 (its S3 listener off, so nothing binds a
// fixed port) with extra flags, and returns it with its endpoint; onLine sees its log lines.
func startGlaux(bin, python, dataDir, logPath string, extra []string, onLine func(string)) (*proc, string, error) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--python", python, "--s3-addr", "", "--log-level", "warn"}
	args = append(args, extra...) // later flags win
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GLAUX_CREDENTIALS=", "GLAUX_CREDENTIALS_FILE=")
	if _, ok := os.LookupEnv("GLAUX_RUNNER_USER"); !ok {
		// Runners run as the bench's own user, like the bare PySpark baseline (and the venv
		// may be where no other user can enter); set GLAUX_RUNNER_USER to measure otherwise.
		cmd.Env = append(cmd.Env, "GLAUX_RUNNER_USER=")
	}
	found := make(chan string, 1)
	p, err := startProc("glaux", cmd, logPath, func(line string) {
		if m := endpointRE.FindStringSubmatch(line); m != nil {
			select {
			case found <- m[1]:
			default:
			}
		}
		if onLine != nil {
			onLine(line)
		}
	})
	if err != nil {
		return nil, "", err
	}
	select {
	case ep := <-found:
		return p, ep, nil
	case <-p.done:
		return nil, "", fmt.Errorf("glaux exited at start (%v); see %s", p.err, logPath)
	case <-time.After(60 * time.Second):
		p.terminate(10 * time.Second)
		return nil, "", fmt.Errorf("glaux printed no endpoint within 60s; see %s", logPath)
	}
}

// children are the direct children of pid (glaux's runners).
func children(pid int) []procInfo {
	var out []procInfo
	for _, d := range descendants(pid) {
		if d.ppid == pid {
			out = append(out, d)
		}
	}
	return out
}

// runners are glaux's session runners (python), not its other children (the shared
// catalog's database server, a JVM).
func runners(pid int) []procInfo {
	var out []procInfo
	for _, c := range children(pid) {
		if strings.HasPrefix(c.comm, "python") {
			out = append(out, c)
		}
	}
	return out
}

// startMoto runs moto's server mode on a free loopback port.
func startMoto(python, dir, logPath string) (*proc, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Dir = dir
	p, err := startProc("moto", cmd, logPath, nil)
	if err != nil {
		return nil, "", err
	}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(endpoint + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return p, endpoint, nil
		}
		if p.exited() {
			return nil, "", fmt.Errorf("moto exited at start (%v); see %s", p.err, logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.terminate(10 * time.Second)
	return nil, "", errors.New("moto did not answer within 60s; see " + logPath)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// bareDriver is the plain-PySpark baseline (bench/pyspark_baseline.py) with its command pipes.
type bareDriver struct {
	p       *proc
	stdin   io.WriteCloser
	answers *bufio.Reader
	Startup time.Duration // process start -> getOrCreate returned
}

// startBare starts a bare PySpark driver and waits until its SparkSession exists.
func startBare(python, script, dir, logPath, master, memory string) (*bareDriver, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(python, script, master, memory)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYSPARK_PYTHON="+python, "PYTHONUNBUFFERED=1")
	cmd.ExtraFiles = []*os.File{w} // fd 3
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	p, err := startProc("bare pyspark", cmd, logPath, nil)
	w.Close()
	if err != nil {
		r.Close()
		return nil, err
	}
	b := &bareDriver{p: p, stdin: stdin, answers: bufio.NewReader(r)}
	line, err := b.answers.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "READY" {
		p.terminate(10 * time.Second)
		return nil, fmt.Errorf("bare PySpark did not start (%q, %v); see %s", line, err, logPath)
	}
	b.Startup = time.Since(start)
	return b, nil
}

// exec runs code n times in the bare driver and returns each run's time (compile + exec).
func (b *bareDriver) exec(code string, n int) ([]time.Duration, error) {
	cmd, _ := json.Marshal(map[string]any{"op": "exec", "code": code, "n": n})
	if _, err := b.stdin.Write(append(cmd, '\n')); err != nil {
		return nil, err
	}
	line, err := b.answers.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("bare PySpark: %w", err)
	}
	var out struct {
		Times []float64
		Error string
	}
	if err := json.Unmarshal([]byte(line), &out); err != nil || out.Error != "" {
		return nil, fmt.Errorf("bare PySpark answered %q (%v)", line, err)
	}
	ds := make([]time.Duration, len(out.Times))
	for i, s := range out.Times {
		ds[i] = time.Duration(s * float64(time.Second))
	}
	return ds, nil
}

// quit stops Spark and waits for the process to exit.
func (b *bareDriver) quit() {
	io.WriteString(b.stdin, `{"op":"quit"}`+"\n")
	b.stdin.Close()
	select {
	case <-b.p.done:
	case <-time.After(30 * time.Second):
	}
	b.p.terminate(10 * time.Second)
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
