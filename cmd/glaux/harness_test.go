package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	glaux "glaux/internal/athena"
	"glaux/internal/testenv"
)

// testServer is a real glaux server on 127.0.0.1:0 with its own data directory, driven by
// the real aws-sdk-go-v2 Athena client.
type testServer struct {
	t        testing.TB
	cfg      *Config
	Endpoint string
	Client   *athena.Client
	cancel   context.CancelFunc
	done     chan error
	// Svc is the server's domain service (RunnerPid for fault tests).
	Svc *glaux.Service
}

// services holds the Service of every server started by the tests, by config, as handed
// over by serve()'s test hook (set in TestMain).
var (
	servicesMu sync.Mutex
	services   = map[*Config]*glaux.Service{}
)

func serviceOf(cfg *Config) *glaux.Service {
	servicesMu.Lock()
	defer servicesMu.Unlock()
	return services[cfg]
}

// testPython is the interpreter with PySpark that scripts/test provides.
func testPython(t testing.TB) string {
	testenv.Need(t, testenv.Python)
	p := os.Getenv("GLAUX_PYTHON")
	if p == "" {
		testenv.Missing(t, testenv.Python, "GLAUX_PYTHON is not set: the e2e tests run real sessions; run them with GLAUX_PYTHON=$(scripts/pyenv.sh) or scripts/test")
	}
	return p
}

// newConfig is a server configuration for tests: loopback, a temp data dir, test/test.
func newConfig(t testing.TB, dataDir string) *Config {
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	py := os.Getenv("GLAUX_PYTHON")
	if py == "" {
		py = "python3"
	}
	return &Config{
		Addr: "127.0.0.1:0", DataDir: dataDir, Region: "us-east-1", AccountID: "123456789012",
		Credentials: map[string]string{"test": "test"}, Python: py,
		CoresPerDPU: 1, MemoryMBPerDPU: 512, MaxSessions: 8, QueueDepth: 100,
		OutputLocation: "s3://glaux-results/", SparkStart: 3 * time.Minute, LogLevel: "warn",
	}
}

// startServer runs serve() in this process until the test ends (or stop is called).
func startServer(t testing.TB, cfg *Config) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	s := &testServer{t: t, cfg: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- serve(ctx, cfg, ready) }()
	select {
	case addr := <-ready:
		s.Endpoint = "http://" + addr
	case err := <-s.done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start within 30s")
	}
	s.Client = newClient(s.Endpoint, "test", "test")
	s.Svc = serviceOf(cfg)
	t.Cleanup(s.stop)
	return s
}

// stop shuts the server down (idempotent) and fails the test if shutdown failed or left a
// runner process behind.
func (s *testServer) stop() {
	if err := s.shutdown(); err != nil {
		s.t.Error(err)
	}
}

func (s *testServer) shutdown() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("server shutdown: %v", err)
		}
	case <-time.After(60 * time.Second):
		return errors.New("server did not shut down within 60s")
	}
	var left []string
	for range 20 { // a SIGKILLed process takes a moment to die
		if left = runnerProcesses(filepath.Join(s.cfg.DataDir, "scratch")); len(left) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("processes of session runners outlived the server: %v", left)
}

// runnerProcesses lists the live processes (runners, JVMs, Python workers) whose working
// directory is under dir: the runtime starts each runner in its session's scratch directory
// and their children inherit it.
func runnerProcesses(dir string) []string {
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	scratch := dir + string(filepath.Separator)
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || !strings.HasPrefix(cwd+string(filepath.Separator), scratch) {
			continue
		}
		// A zombie's cwd is gone, so what is left here is a live process.
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		out = append(out, e.Name()+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	return out
}

func newClient(endpoint, akid, secret string) *athena.Client {
	return athena.New(athena.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
		Retryer:      connectionRetryer(),
		HTTPClient:   tracedHTTPClient(),
	})
}

// connectionRetryer retries only what real clients' standard retryer retries as a broken
// connection ("connection reset", "use of closed network connection": a TCP reset read
// after the status line, aws/aws-sdk-go-v2#2737), up to 3 attempts; every error glaux
// answers is still the test's to see. Seen under load on 2 cores: a reset in the middle of a
// 200 response's body, which users' clients retry. What it retries is printed with the
// stack that closed the connection (conntrace_test.go).
func connectionRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{tracedRetryable{}}
		o.RateLimiter = ratelimit.None
	})
}

var (
	sparkOnce   sync.Once
	sparkServer *testServer
	sparkWG     string
	sparkSessID string
)

// sharedSpark is one server with one real PySpark session, shared by the tests whose
// behaviour allows it (Spark takes many seconds to start on two cores).
func sharedSpark(t *testing.T) (*testServer, string) {
	testPython(t)
	sparkOnce.Do(func() {
		// Not the first test's TempDir: that is removed when the test ends, under the server.
		dir := os.Getenv("GLAUX_TEST_SHARED_DIR")
		if dir == "" {
			d, err := os.MkdirTemp("", "glaux-shared-")
			if err != nil {
				t.Fatal(err)
			}
			dir = d
		}
		cfg := newConfig(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		s := &testServer{t: t, cfg: cfg, cancel: cancel, done: make(chan error, 1)}
		go func() { s.done <- serve(ctx, cfg, ready) }()
		s.Endpoint = "http://" + <-ready
		s.Client = newClient(s.Endpoint, "test", "test")
		s.Svc = serviceOf(cfg)
		sparkServer = s
		sparkWG = "shared-spark"
		createSparkWorkGroup(t, s.Client, sparkWG)
		sparkSessID = startIdleSession(t, s.Client, sparkWG, nil)
	})
	if sparkServer == nil || sparkSessID == "" {
		t.Fatal("the shared Spark session did not start")
	}
	return sparkServer, sparkSessID
}

// createSparkWorkGroup creates a PySpark workgroup.
func createSparkWorkGroup(t testing.TB, c *athena.Client, name string) {
	t.Helper()
	_, err := c.CreateWorkGroup(context.Background(), &athena.CreateWorkGroupInput{
		Name: aws.String(name),
		Configuration: &types.WorkGroupConfiguration{
			EngineVersion:       &types.EngineVersion{SelectedEngineVersion: aws.String("PySpark engine version 3")},
			ExecutionRole:       aws.String("arn:aws:iam::123456789012:role/glaux-spark"),
			ResultConfiguration: &types.ResultConfiguration{OutputLocation: aws.String("s3://results/" + name + "/")},
		},
	})
	if err != nil {
		t.Fatalf("CreateWorkGroup %s: %v", name, err)
	}
}

// startIdleSession starts a session and waits until it is IDLE.
func startIdleSession(t testing.TB, c *athena.Client, wg string, edit func(*athena.StartSessionInput)) string {
	t.Helper()
	in := &athena.StartSessionInput{
		WorkGroup:           aws.String(wg),
		EngineConfiguration: &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(2)},
	}
	if edit != nil {
		edit(in)
	}
	out, err := c.StartSession(context.Background(), in)
	if err != nil {
		t.Fatalf("StartSession: %v", err)
	}
	st := waitSession(t, c, *out.SessionId, 3*time.Minute, types.SessionStateIdle, types.SessionStateFailed, types.SessionStateTerminated)
	if st.State != types.SessionStateIdle {
		t.Fatalf("session %s ended %s: %s", *out.SessionId, st.State, aws.ToString(st.StateChangeReason))
	}
	return *out.SessionId
}

// waitSession polls GetSessionStatus until the state is one of want.
func waitSession(t testing.TB, c *athena.Client, id string, timeout time.Duration, want ...types.SessionState) *types.SessionStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := c.GetSessionStatus(context.Background(), &athena.GetSessionStatusInput{SessionId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetSessionStatus: %v", err)
		}
		for _, w := range want {
			if out.Status.State == w {
				return out.Status
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %s still %s after %s", id, out.Status.State, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runCalculation submits code and waits for a final state.
func runCalculation(t testing.TB, c *athena.Client, session, code string) *athena.GetCalculationExecutionOutput {
	t.Helper()
	out, err := c.StartCalculationExecution(context.Background(), &athena.StartCalculationExecutionInput{SessionId: aws.String(session), CodeBlock: aws.String(code)})
	if err != nil {
		t.Fatalf("StartCalculationExecution: %v", err)
	}
	return waitCalculation(t, c, *out.CalculationExecutionId, 3*time.Minute)
}

func waitCalculation(t testing.TB, c *athena.Client, id string, timeout time.Duration) *athena.GetCalculationExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := c.GetCalculationExecution(context.Background(), &athena.GetCalculationExecutionInput{CalculationExecutionId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetCalculationExecution: %v", err)
		}
		switch out.Status.State {
		case types.CalculationExecutionStateCompleted, types.CalculationExecutionStateFailed, types.CalculationExecutionStateCanceled:
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("calculation %s still %s after %s", id, out.Status.State, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMain stops the shared Spark server after all tests, so no runner outlives the run.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(childServeEnv); ok {
		os.Exit(childServe(args)) // this process is a glaux server that a test will kill
	}
	testHookService = func(cfg *Config, svc *glaux.Service) {
		servicesMu.Lock()
		defer servicesMu.Unlock()
		services[cfg] = svc
	}
	code := m.Run()
	if sparkServer != nil {
		// Its test has ended: report here rather than through it.
		if err := sparkServer.shutdown(); err != nil {
			fmt.Fprintln(os.Stderr, "shared Spark server:", err)
			code = 1
		}
		if os.Getenv("GLAUX_TEST_SHARED_DIR") == "" {
			os.RemoveAll(sparkServer.cfg.DataDir)
		}
	}
	os.Exit(code)
}
