package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"glaux/bench/load/loadgen"
	"glaux/internal/testenv"
)

// childGlaux is a glaux server in a process of its own (this test binary, made a plain
// `glaux serve` by childServeEnv): a test can SIGKILL it as a crash would, and its memory is
// its own.
type childGlaux struct {
	t        testing.TB
	Dir      string
	Endpoint string
	Client   *athena.Client
	cmd      *exec.Cmd
	logs     *lockedBuffer
	exited   chan struct{}
	// logsChecked: checkLogs ran (once glaux exited).
	logsChecked bool
}

// lockedBuffer collects the child's output; exec writes it from one goroutine, tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startChildGlaux starts glaux on dir (loopback, a port the kernel picks, no warm pool, no
// S3 endpoint, runners as this user) with extra flags, and waits until it serves. The test's
// cleanup stops it (SIGTERM, then SIGKILL) and waits for its runners to be gone.
func startChildGlaux(t testing.TB, dir string, flags ...string) *childGlaux {
	t.Helper()
	py := testPython(t)
	addrFile := filepath.Join(t.TempDir(), "addr")
	for _, a := range append([]string{dir, py}, flags...) {
		if strings.ContainsAny(a, " \t\n") {
			t.Fatalf("child glaux arguments cannot hold spaces: %q", a) // childServe splits on them
		}
	}
	args := append([]string{addrFile, "--addr", "127.0.0.1:0", "--data-dir", dir, "--python", py,
		"--memory-per-dpu", "512", "--log-level", "warn", "--warm-pool", "0", "--s3-addr=", "--runner-user="}, flags...)
	g := &childGlaux{t: t, Dir: dir, logs: &lockedBuffer{}, exited: make(chan struct{})}
	g.cmd = exec.Command(os.Args[0])
	g.cmd.Env = append(os.Environ(), childServeEnv+"="+strings.Join(args, " "))
	g.cmd.Stdout, g.cmd.Stderr = g.logs, g.logs
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.cmd.Wait(); close(g.exited) }()
	t.Cleanup(g.stop)
	var addr []byte
	for deadline := time.Now().Add(30 * time.Second); len(addr) == 0; time.Sleep(20 * time.Millisecond) {
		select {
		case <-g.exited:
			t.Fatalf("the child glaux exited before serving:\n%s", g.Logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child glaux did not serve within 30s:\n%s", g.Logs())
		}
		addr, _ = os.ReadFile(addrFile)
	}
	g.Endpoint = "http://" + string(addr)
	g.Client = newClient(g.Endpoint, "test", "test")
	return g
}

func (g *childGlaux) Pid() int     { return g.cmd.Process.Pid }
func (g *childGlaux) Logs() string { return g.logs.String() }

// kill SIGKILLs glaux and waits until it is reaped, then until its runners, which notice on
// their own, are gone too.
func (g *childGlaux) kill() {
	g.t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		g.t.Fatal(err)
	}
	<-g.exited
	g.waitRunners()
	g.checkLogs()
}

// checkLogs fails the test on what must never be in glaux's output: a data race report (the
// test binary may be built with -race), a panic.
func (g *childGlaux) checkLogs() {
	if g.logsChecked {
		return
	}
	g.logsChecked = true
	logs := g.Logs()
	for _, bad := range []string{"WARNING: DATA RACE", "panic:", "fatal error:"} {
		if strings.Contains(logs, bad) {
			g.t.Errorf("the child glaux reported %q:\n%s", bad, logs)
			return
		}
	}
}

// stop ends glaux as an operator would (SIGTERM), or with SIGKILL after 60s.
func (g *childGlaux) stop() {
	select {
	case <-g.exited:
	default:
		g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.exited:
		case <-time.After(60 * time.Second):
			g.t.Errorf("the child glaux did not stop within 60s of SIGTERM: killing it")
			g.cmd.Process.Kill()
			<-g.exited
		}
	}
	g.waitRunners()
	g.checkLogs()
}

// waitRunners waits up to 30s for the runners of this data dir to end, then kills them.
func (g *childGlaux) waitRunners() {
	scratch := filepath.Join(g.Dir, "scratch")
	for range 300 {
		if len(runnerProcesses(scratch)) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	left := runnerProcesses(scratch)
	g.t.Errorf("runners outlived their glaux by 30s: %v", left)
	for _, p := range left {
		if pid, err := strconv.Atoi(strings.Fields(p)[0]); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// killCalc is a calculation acknowledged by a glaux that was then killed.
type killCalc struct {
	id, session, marker string
	round               int
	completed           bool // a client saw it COMPLETED before the kill
}

// TestFaultKill: glaux SIGKILLed during a stream of acknowledged writes — notebook saves with
// increasing versions, calculations finishing in fake-Spark sessions — three times on one data
// dir. After each kill a new glaux opens the database cleanly (and SQLite finds it intact),
// the notebook exports the last acknowledged version or a newer one, every acknowledged
// calculation exists, the ones seen finished are COMPLETED with their objects, and the
// others are final: COMPLETED with their objects, or FAILED with a reason.
func TestFaultKill(t *testing.T) {
	testPython(t)
	t.Parallel()
	dir := t.TempDir()
	const rounds = 3
	var (
		calcs       []*killCalc
		sessions    []string
		notebook    string
		acked, sent int // notebook versions: last acknowledged, last sent
	)
	for round := 1; round <= rounds+1; round++ {
		g := startChildGlaux(t, dir, "--fake-spark")
		c := g.Client
		if round == 1 {
			createSparkWorkGroup(t, c, "kill")
			out, err := c.CreateNotebook(context.Background(), &athena.CreateNotebookInput{WorkGroup: aws.String("kill"), Name: aws.String("kill")})
			if err != nil {
				t.Fatalf("CreateNotebook: %v", err)
			}
			notebook = *out.NotebookId
		} else {
			checkAfterKill(t, g, calcs, sessions, notebook, acked, sent)
			if t.Failed() {
				t.Fatalf("after kill %d: acknowledged writes are missing\nglaux's log:\n%s", round-1, g.Logs())
			}
		}
		if round > rounds {
			g.stop()
			break
		}

		// The stream: two calculations in flight in a fresh session, and notebook saves.
		session := startIdleSession(t, c, "kill", nil)
		sessions = append(sessions, session)
		var (
			mu      sync.Mutex
			killed  atomic.Bool
			stop    = make(chan struct{})
			wg      sync.WaitGroup
			nCalcs  atomic.Int32
			nSaves  atomic.Int32
			failure = func(format string, args ...any) {
				if !killed.Load() {
					t.Errorf(format, args...)
				}
			}
		)
		stopped := func() bool {
			select {
			case <-stop:
				return true
			default:
				return false
			}
		}
		for w := range 2 {
			wg.Go(func() {
				for n := 0; !stopped(); n++ {
					calc := &killCalc{session: session, round: round, marker: fmt.Sprintf("kill r%d w%d #%d", round, w, n)}
					out, err := c.StartCalculationExecution(context.Background(), &athena.StartCalculationExecutionInput{
						SessionId: &session, CodeBlock: aws.String(fmt.Sprintf("import time\ntime.sleep(0.02)\nprint(%q)", calc.marker)),
					})
					if err != nil {
						failure("StartCalculationExecution before the kill: %v", err)
						return
					}
					calc.id = *out.CalculationExecutionId
					mu.Lock()
					calcs = append(calcs, calc)
					mu.Unlock()
					nCalcs.Add(1)
					for !stopped() {
						st, err := c.GetCalculationExecutionStatus(context.Background(), &athena.GetCalculationExecutionStatusInput{CalculationExecutionId: &calc.id})
						if err != nil {
							failure("GetCalculationExecutionStatus before the kill: %v", err)
							return
						}
						if st.Status.State == types.CalculationExecutionStateCompleted {
							mu.Lock()
							calc.completed = true
							mu.Unlock()
							break
						} else if st.Status.State == types.CalculationExecutionStateFailed || st.Status.State == types.CalculationExecutionStateCanceled {
							failure("calculation %s ended %s before the kill: %s", calc.id, st.Status.State, aws.ToString(st.Status.StateChangeReason))
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
				}
			})
		}
		wg.Go(func() {
			for !stopped() {
				mu.Lock()
				sent++
				v := sent
				mu.Unlock()
				_, err := c.UpdateNotebook(context.Background(), &athena.UpdateNotebookInput{
					NotebookId: &notebook, Payload: aws.String(loadgen.NotebookPayload(v)), Type: types.NotebookTypeIpynb,
				})
				if err != nil {
					failure("UpdateNotebook before the kill: %v", err)
					return
				}
				mu.Lock()
				acked = v
				mu.Unlock()
				nSaves.Add(1)
			}
		})

		// Kill once the stream is well under way, at a moment that differs from run to run.
		for deadline := time.Now().Add(30 * time.Second); nCalcs.Load() < 10 || nSaves.Load() < 10; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) || t.Failed() {
				close(stop)
				wg.Wait()
				t.Fatalf("round %d: only %d calculations and %d notebook saves acknowledged in 30s\nglaux's log:\n%s", round, nCalcs.Load(), nSaves.Load(), g.Logs())
			}
		}
		time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
		killed.Store(true)
		g.kill()
		close(stop)
		wg.Wait()
		mu.Lock()
		done := 0
		for _, calc := range calcs {
			if calc.round == round && calc.completed {
				done++
			}
		}
		t.Logf("kill %d: %d calculations acknowledged (%d seen COMPLETED), notebook version %d acknowledged, %d sent", round, nCalcs.Load(), done, acked, sent)
		mu.Unlock()
	}
}

// checkAfterKill checks, on the glaux started after a kill, every write acknowledged before it.
func checkAfterKill(t *testing.T, g *childGlaux, calcs []*killCalc, sessions []string, notebook string, acked, sent int) {
	t.Helper()
	c, ctx := g.Client, context.Background()
	// SQLite's own check, beside the running glaux (a read in WAL mode).
	db, err := sql.Open("sqlite", filepath.Join(g.Dir, "glaux.db")+"?_busy_timeout=10000&_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("PRAGMA integrity_check after the kill: %q, %v", check, err)
	}
	db.Close()

	out, err := c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: &notebook})
	if err != nil {
		t.Fatalf("ExportNotebook: %v\nglaux's log:\n%s", err, g.Logs())
	}
	if v := loadgen.PayloadVersion(aws.ToString(out.Payload)); v < acked || v > sent {
		t.Errorf("the notebook exports version %d; %d was the last acknowledged, %d the last sent", v, acked, sent)
	}
	for _, id := range sessions {
		if st := getSession(t, c, id).Status; st.State != types.SessionStateFailed || aws.ToString(st.StateChangeReason) == "" || st.EndDateTime == nil {
			t.Errorf("session %s of a killed glaux: %s %q", id, st.State, aws.ToString(st.StateChangeReason))
		}
	}
	listed := map[string]int{}
	for _, id := range sessions {
		p := athena.NewListCalculationExecutionsPaginator(c, &athena.ListCalculationExecutionsInput{SessionId: aws.String(id)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListCalculationExecutions: %v\nglaux's log:\n%s", err, g.Logs())
			}
			for _, s := range page.Calculations {
				listed[aws.ToString(s.CalculationExecutionId)]++
			}
		}
	}
	var completed, failed int
	for _, calc := range calcs {
		if listed[calc.id] != 1 {
			t.Errorf("acknowledged calculation %s (%s) is listed %d times", calc.id, calc.marker, listed[calc.id])
		}
		out, err := c.GetCalculationExecution(ctx, &athena.GetCalculationExecutionInput{CalculationExecutionId: &calc.id})
		if err != nil {
			t.Errorf("acknowledged calculation %s (%s): %v", calc.id, calc.marker, err)
			continue
		}
		st := out.Status
		switch {
		case st.State == types.CalculationExecutionStateCompleted:
			completed++
			if out.Result == nil {
				t.Errorf("COMPLETED calculation %s has no Result", calc.id)
			} else if stdout, err := loadgen.ReadObject(g.Dir, aws.ToString(out.Result.StdOutS3Uri)); err != nil || stdout != calc.marker+"\n" {
				t.Errorf("stdout of COMPLETED calculation %s: %q, %v; want %q", calc.id, stdout, err, calc.marker+"\n")
			}
			for _, uri := range []string{aws.ToString(out.Result.StdErrorS3Uri), aws.ToString(out.Result.ResultS3Uri)} {
				if _, err := loadgen.ReadObject(g.Dir, uri); err != nil {
					t.Errorf("object of COMPLETED calculation %s: %v", calc.id, err)
				}
			}
		case calc.completed:
			t.Errorf("calculation %s was seen COMPLETED before the kill, and is %s after it: %q", calc.id, st.State, aws.ToString(st.StateChangeReason))
		case st.State == types.CalculationExecutionStateFailed && aws.ToString(st.StateChangeReason) != "" && st.CompletionDateTime != nil:
			failed++
		default:
			t.Errorf("unfinished calculation %s after the kill: %s %q", calc.id, st.State, aws.ToString(st.StateChangeReason))
		}
	}
	t.Logf("after the kill: %d acknowledged calculations, %d COMPLETED with their objects, %d FAILED by the restart", len(calcs), completed, failed)
}

// TestFaultDiskFull: the object store's file system full when a calculation's results are
// written. The calculation ends FAILED saying so, glaux keeps serving, the session stays
// usable, and once there is space again it and a new session complete calculations.
// The full disk is a 256 KiB tmpfs mounted at <data-dir>/objects: root only.
func TestFaultDiskFull(t *testing.T) {
	testenv.Need(t, testenv.Root)
	testPython(t)
	if os.Geteuid() != 0 {
		testenv.Missing(t, testenv.Root, "TestFaultDiskFull mounts a small tmpfs under the object store: it needs root")
	}
	t.Parallel()
	dir := t.TempDir()
	objects := filepath.Join(dir, "objects")
	if err := os.MkdirAll(objects, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", objects).CombinedOutput(); err != nil {
		testenv.Missing(t, testenv.Root, "TestFaultDiskFull needs to mount a tmpfs, which is not permitted here: mount: %v: %s", err, bytes.TrimSpace(out))
	}
	// Registered before the server starts, so it runs after the server stopped.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", objects).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", objects, err, out)
			exec.Command("umount", "-l", objects).Run()
		}
	})
	cfg := newConfig(t, dir)
	cfg.FakeSpark = true
	s := startServer(t, cfg)
	c, ctx := s.Client, context.Background()
	createSparkWorkGroup(t, c, "full")
	session := startIdleSession(t, c, "full", nil)
	if got := wantCompleted(t, s, session, "print('before')"); got != "before\n" {
		t.Fatalf("stdout before the disk filled: %q", got)
	}

	filler := filepath.Join(objects, "filler")
	fill(t, filler)
	out := runCalculation(t, c, session, "print('x' * 20000)")
	reason := aws.ToString(out.Status.StateChangeReason)
	t.Logf("calculation on a full disk: %s %q", out.Status.State, reason)
	if out.Status.State != types.CalculationExecutionStateFailed ||
		!strings.HasPrefix(reason, "The calculation's results could not be written: ") || !strings.Contains(reason, "no space left on device") {
		t.Errorf("calculation on a full disk: %s %q, want FAILED saying its results could not be written: no space left on device", out.Status.State, reason)
	}
	if out.Status.CompletionDateTime == nil {
		t.Errorf("the calculation that failed on a full disk has no CompletionDateTime")
	}

	// glaux keeps serving, the disk still full: reads, writes to the database, the session.
	if _, err := c.ListWorkGroups(ctx, &athena.ListWorkGroupsInput{}); err != nil {
		t.Errorf("ListWorkGroups on a full disk: %v", err)
	}
	if _, err := c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("full"), Name: aws.String("while-full")}); err != nil {
		t.Errorf("CreateNotebook with the object store full: %v", err)
	}
	list, err := c.ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: &session})
	if err != nil || len(list.Calculations) != 2 {
		t.Errorf("ListCalculationExecutions on a full disk: %+v, %v", list, err)
	}
	if st := getSession(t, c, session).Status; st.State != types.SessionStateIdle {
		t.Errorf("the session after a calculation failed on a full disk: %s %q", st.State, aws.ToString(st.StateChangeReason))
	}
	again := runCalculation(t, c, session, "print('still full')")
	if again.Status.State != types.CalculationExecutionStateFailed || !strings.Contains(aws.ToString(again.Status.StateChangeReason), "no space left on device") {
		t.Errorf("second calculation on a full disk: %s %q", again.Status.State, aws.ToString(again.Status.StateChangeReason))
	}

	// Space is back: the same session and a new one complete calculations, with their objects.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if got := wantCompleted(t, s, session, "print('space again')"); got != "space again\n" {
		t.Errorf("stdout once there is space again: %q", got)
	}
	other := startIdleSession(t, c, "full", nil)
	if got := wantCompleted(t, s, other, "print('another session')"); got != "another session\n" {
		t.Errorf("stdout of another session once there is space again: %q", got)
	}
}

// fill writes path until its file system is full (ENOSPC), at most 64 MiB.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{'f'}, 4096)
	for written := 0; written < 64<<20; written += len(chunk) {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", path, err)
			}
			var fs syscall.Statfs_t
			syscall.Statfs(filepath.Dir(path), &fs)
			t.Logf("file system full after %d KiB (%d blocks free)", written>>10, fs.Bavail)
			return
		}
	}
	t.Fatalf("%s is not on a small file system: 64 MiB written", path)
}

// TestFaultRunnerStopped: a runner that stops answering (SIGSTOP) makes its session
// DEGRADED after about 10 s, which refuses calculations; on SIGCONT it is back (BUSY or IDLE)
// and its calculation completes; TerminateSession of a DEGRADED session terminates it, and
// its runner is gone.
func TestFaultRunnerStopped(t *testing.T) {
	t.Parallel()
	s := fakeServer(t, nil)
	c, ctx := s.Client, context.Background()
	createSparkWorkGroup(t, c, "stopped")
	session := startIdleSession(t, c, "stopped", nil)
	pid := s.Svc.RunnerPid(session)
	if pid <= 0 {
		t.Fatalf("no runner pid for session %s", session)
	}
	// Whatever happens, the runner must be able to run (and be stopped) again at the end.
	// Registered after the server, so it runs before the server stops.
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })

	// Stopped while a calculation runs.
	running := startCalc(t, c, session, "import time\ntime.sleep(3)\nprint('after')")
	waitCalcState(t, c, *running.CalculationExecutionId, types.CalculationExecutionStateRunning, 30*time.Second)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	time.Sleep(3 * time.Second)
	if st := getSession(t, c, session).Status; st.State != types.SessionStateBusy {
		t.Errorf("session 3s after its runner stopped: %s %q, want still BUSY", st.State, aws.ToString(st.StateChangeReason))
	}
	st := waitSession(t, c, session, 30*time.Second, types.SessionStateDegraded, types.SessionStateFailed, types.SessionStateTerminated)
	t.Logf("%s %s after SIGSTOP: %q", st.State, time.Since(stopped).Round(100*time.Millisecond), aws.ToString(st.StateChangeReason))
	if st.State != types.SessionStateDegraded || aws.ToString(st.StateChangeReason) == "" {
		t.Fatalf("session of a stopped runner: %s %q, want DEGRADED with a reason", st.State, aws.ToString(st.StateChangeReason))
	}
	_, err := c.StartCalculationExecution(ctx, &athena.StartCalculationExecutionInput{SessionId: &session, CodeBlock: aws.String("print(1)")})
	wantErr[*types.InvalidRequestException](t, err, "DEGRADED")
	if _, err := c.ListWorkGroups(ctx, &athena.ListWorkGroupsInput{}); err != nil {
		t.Errorf("ListWorkGroups with a runner stopped: %v", err)
	}

	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	st = waitSession(t, c, session, 15*time.Second, types.SessionStateIdle, types.SessionStateBusy, types.SessionStateFailed, types.SessionStateTerminated)
	t.Logf("%s %s after SIGCONT", st.State, time.Since(resumed).Round(100*time.Millisecond))
	if st.State != types.SessionStateIdle && st.State != types.SessionStateBusy {
		t.Fatalf("session after SIGCONT: %s %q", st.State, aws.ToString(st.StateChangeReason))
	}
	out := waitCalculation(t, c, *running.CalculationExecutionId, 30*time.Second)
	if out.Status.State != types.CalculationExecutionStateCompleted {
		t.Errorf("calculation that ran through SIGSTOP/SIGCONT: %s %q", out.Status.State, aws.ToString(out.Status.StateChangeReason))
	} else if got := readObject(t, s, *out.Result.StdOutS3Uri); got != "after\n" {
		t.Errorf("stdout of the calculation that ran through SIGSTOP/SIGCONT: %q", got)
	}
	if got := wantCompleted(t, s, session, "print('healthy')"); got != "healthy\n" {
		t.Errorf("stdout after SIGCONT: %q", got)
	}

	// Stopped again, idle this time: TerminateSession of the DEGRADED session ends it.
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	st = waitSession(t, c, session, 30*time.Second, types.SessionStateDegraded, types.SessionStateFailed, types.SessionStateTerminated)
	if st.State != types.SessionStateDegraded {
		t.Fatalf("idle session of a stopped runner: %s %q, want DEGRADED", st.State, aws.ToString(st.StateChangeReason))
	}
	term := time.Now()
	if _, err := c.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: &session}); err != nil {
		t.Fatalf("TerminateSession of a DEGRADED session: %v", err)
	}
	st = waitSession(t, c, session, 45*time.Second, types.SessionStateTerminated, types.SessionStateFailed)
	t.Logf("%s %s after TerminateSession: %q", st.State, time.Since(term).Round(100*time.Millisecond), aws.ToString(st.StateChangeReason))
	if st.State != types.SessionStateTerminated || st.EndDateTime == nil {
		t.Errorf("DEGRADED session after TerminateSession: %s %q", st.State, aws.ToString(st.StateChangeReason))
	}
	noRunnerOf(t, s, session)
	if _, err := c.ListWorkGroups(ctx, &athena.ListWorkGroupsInput{}); err != nil {
		t.Errorf("ListWorkGroups after the stopped runner was terminated: %v", err)
	}
}
