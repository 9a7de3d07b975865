package main

// Beyond one machine (docs/cluster.md): sessions whose executors run on a real Spark
// standalone cluster, results and s3a:// data in a real S3-compatible store (versitygw), and
// the local object store served over S3.
//
// TestClusterS3Serve is fast. TestCluster needs what scripts/cluster-deps.sh fetches and
// takes about 2 minutes; GLAUX_SKIP=cluster leaves it out.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"glaux/internal/objects"
	"glaux/internal/testenv"
)

// awsCLI finds the AWS CLI (scripts/test puts the test environment's on PATH).
func awsCLI(t *testing.T) string {
	testenv.Need(t, testenv.Tools)
	p, err := exec.LookPath("aws")
	if err != nil {
		testenv.Missing(t, testenv.Tools, "the AWS CLI is not on PATH: put the test tools' environment there (scripts/pyenv.sh python/requirements-test.txt)")
	}
	return p
}

// runAWS runs the AWS CLI with only the given credentials (no profile or config file of the
// machine's user) and returns its stdout, stderr and error.
func runAWS(t *testing.T, bin, akid, secret string, args ...string) (string, string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"AWS_ACCESS_KEY_ID="+akid, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		<-ctx.Done()
		if cmd.Process != nil && ctx.Err() == context.DeadlineExceeded {
			cmd.Process.Kill()
		}
	}()
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestClusterS3Serve: with the local backend, result objects are served over S3 on
// --s3-addr, SigV4-verified with glaux's own credentials, read-only.
func TestClusterS3Serve(t *testing.T) {
	testPython(t)
	cli := awsCLI(t)
	cfg := newConfig(t, "")
	cfg.FakeSpark = true
	cfg.S3Addr = "127.0.0.1:0"
	s := startServer(t, cfg)
	if cfg.S3Addr == "127.0.0.1:0" || !loopback(cfg.S3Addr) {
		t.Fatalf("S3 address after start = %q; want the bound loopback port", cfg.S3Addr)
	}
	s3url := "http://" + cfg.S3Addr
	createSparkWorkGroup(t, s.Client, "s3serve")
	session := startIdleSession(t, s.Client, "s3serve", nil)
	out := runCalculation(t, s.Client, session, `print("hello over s3")`)
	if out.Status.State != types.CalculationExecutionStateCompleted {
		t.Fatalf("calculation %s: %s", out.Status.State, aws.ToString(out.Status.StateChangeReason))
	}
	stdoutURI := aws.ToString(out.Result.StdOutS3Uri)

	got, errOut, err := runAWS(t, cli, "test", "test", "s3", "cp", stdoutURI, "-", "--endpoint-url", s3url)
	if err != nil || got != "hello over s3\n" {
		t.Fatalf("aws s3 cp %s - = %q, %v\n%s", stdoutURI, got, err, errOut)
	}
	// Listing the calculation's folder shows its three objects.
	folder := stdoutURI[:strings.LastIndex(stdoutURI, "/")+1]
	got, errOut, err = runAWS(t, cli, "test", "test", "s3", "ls", folder, "--endpoint-url", s3url)
	if err != nil {
		t.Fatalf("aws s3 ls %s: %v\n%s", folder, err, errOut)
	}
	for _, name := range []string{"stdout.txt", "stderr.txt", "result.json"} {
		if !strings.Contains(got, name) {
			t.Errorf("aws s3 ls %s does not list %s:\n%s", folder, name, got)
		}
	}
	// A wrong signature is refused, and so is an unknown key.
	if got, errOut, err := runAWS(t, cli, "test", "wrong", "s3", "cp", stdoutURI, "-", "--endpoint-url", s3url); err == nil || got != "" || !strings.Contains(errOut, "403") {
		t.Errorf("aws s3 cp with a wrong secret = %q, %v; want a 403 refusal\n%s", got, err, errOut)
	}
	if _, errOut, err := runAWS(t, cli, "nobody", "test", "s3api", "get-object", "--bucket", "results", "--key", "x", "/dev/null", "--endpoint-url", s3url); err == nil || !strings.Contains(errOut, "InvalidAccessKeyId") {
		t.Errorf("aws s3api get-object with an unknown key: %v; want InvalidAccessKeyId\n%s", err, errOut)
	}
	// Writes are refused (read-only), however well signed, and change nothing.
	_, errOut, err = runAWS(t, cli, "test", "test", "s3", "cp", "/etc/hostname", stdoutURI, "--endpoint-url", s3url)
	if err == nil || !strings.Contains(errOut, "AccessDenied") {
		t.Errorf("aws s3 cp upload: %v; want AccessDenied\n%s", err, errOut)
	}
	if got, _, _ := runAWS(t, cli, "test", "test", "s3", "cp", stdoutURI, "-", "--endpoint-url", s3url); got != "hello over s3\n" {
		t.Errorf("stdout after a refused write = %q", got)
	}
}

// clusterDeps is what TestCluster needs besides GLAUX_PYTHON.
type clusterDeps struct {
	python, sparkClass, versitygw, jars, aws string
}

func needClusterDeps(t *testing.T) clusterDeps {
	testenv.Need(t, testenv.Cluster)
	d := clusterDeps{python: testPython(t), aws: awsCLI(t)}
	out, err := exec.Command(d.python, "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))").Output()
	if err != nil {
		testenv.Missing(t, testenv.Cluster, "pyspark not importable by %s: %v", d.python, err)
	}
	d.sparkClass = filepath.Join(strings.TrimSpace(string(out)), "bin", "spark-class")
	cache := defaultCacheDir() // where scripts/cluster-deps.sh puts them
	d.versitygw = os.Getenv("GLAUX_VERSITYGW")
	if d.versitygw == "" {
		d.versitygw = filepath.Join(cache, "bin", "versitygw")
	}
	d.jars = filepath.Join(cache, "jars")
	jars, _ := objects.S3AJars(d.jars)
	for _, need := range []string{d.sparkClass, d.versitygw} {
		if _, err := os.Stat(need); err != nil {
			testenv.Missing(t, testenv.Cluster, "%s is missing: run scripts/cluster-deps.sh", need)
		}
	}
	if len(jars) < 2 {
		testenv.Missing(t, testenv.Cluster, "no S3A jars in %s: run scripts/cluster-deps.sh", d.jars)
	}
	if _, err := exec.LookPath("java"); err != nil && os.Getenv("JAVA_HOME") == "" {
		testenv.Missing(t, testenv.Cluster, "java is not installed (nor JAVA_HOME set)")
	}
	return d
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// daemon is a process (and its process group: a Spark worker's executors are in it) that
// the test stops when it ends.
type daemon struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startDaemon(t *testing.T, name string, env []string, bin string, args ...string) *daemon {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	f.Close()
	d := &daemon{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.kill(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(15 * time.Second):
			d.kill(syscall.SIGKILL)
			<-d.done
		}
		// Whatever else is left in the group (a worker's executors) goes too.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("--- %s log (last 3000 bytes):\n%s", name, tail(d.log, 3000))
		}
	})
	return d
}

// kill signals the daemon's whole process group.
func (d *daemon) kill(sig syscall.Signal) { syscall.Kill(-d.cmd.Process.Pid, sig) }

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// sparkCluster is a real Spark standalone master with workers, all on loopback.
type sparkCluster struct {
	Master  string // spark://127.0.0.1:port
	ui      string
	workers []*daemon
}

// sparkEnv binds every Spark daemon to loopback and makes a lost worker noticed in seconds.
var sparkEnv = []string{
	"SPARK_LOCAL_IP=127.0.0.1", "SPARK_DAEMON_MEMORY=512m",
	"SPARK_MASTER_OPTS=-Dspark.worker.timeout=10", "SPARK_WORKER_OPTS=-Dspark.worker.timeout=10",
}

func startSparkCluster(t *testing.T, sparkClass string, workers int) *sparkCluster {
	t.Helper()
	port, uiPort := freePort(t), freePort(t)
	c := &sparkCluster{Master: fmt.Sprintf("spark://127.0.0.1:%d", port), ui: fmt.Sprintf("http://127.0.0.1:%d", uiPort)}
	master := startDaemon(t, "spark-master", sparkEnv, sparkClass, "org.apache.spark.deploy.master.Master",
		"--host", "127.0.0.1", "--port", fmt.Sprint(port), "--webui-port", fmt.Sprint(uiPort))
	// Workers started before the master listens back off for many seconds.
	waitFor(t, "the Spark master", 90*time.Second, func() bool {
		select {
		case <-master.done:
			t.Fatalf("the Spark master exited:\n%s", tail(master.log, 3000))
		default:
		}
		return c.status().Status == "ALIVE"
	})
	for i := range workers {
		c.workers = append(c.workers, startDaemon(t, fmt.Sprintf("spark-worker-%d", i+1), sparkEnv, sparkClass, "org.apache.spark.deploy.worker.Worker",
			"--host", "127.0.0.1", "--port", "0", "--webui-port", "0", "--cores", "1", "--memory", "1g",
			"--work-dir", t.TempDir(), c.Master))
	}
	waitFor(t, fmt.Sprintf("%d Spark workers", workers), 90*time.Second, func() bool { return c.status().AliveWorkers == workers })
	return c
}

type masterStatus struct {
	Status       string `json:"status"`
	AliveWorkers int    `json:"aliveworkers"`
	Workers      []struct {
		State string `json:"state"`
	} `json:"workers"`
}

func (c *sparkCluster) status() masterStatus {
	var st masterStatus
	resp, err := http.Get(c.ui + "/json/")
	if err != nil {
		return st
	}
	defer resp.Body.Close()
	json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st)
	return st
}

// startVersity runs versitygw (posix backend on a temp dir) on a free loopback port.
func startVersity(t *testing.T, bin, akid, secret string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startDaemon(t, "versitygw", nil, bin, "--access", akid, "--secret", secret, "--port", addr, "--quiet", "posix", t.TempDir())
	waitFor(t, "versitygw", 30*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://" + addr
}

// executors lists a session's executors of one type.
func executorsOf(t *testing.T, c *athena.Client, session string, typ types.ExecutorType) []types.ExecutorsSummary {
	t.Helper()
	out, err := c.ListExecutors(context.Background(), &athena.ListExecutorsInput{SessionId: aws.String(session)})
	if err != nil {
		t.Fatalf("ListExecutors: %v", err)
	}
	var list []types.ExecutorsSummary
	for _, e := range out.ExecutorsSummary {
		if e.ExecutorType == typ {
			list = append(list, e)
		}
	}
	return list
}

func countState(list []types.ExecutorsSummary, states ...types.ExecutorState) int {
	n := 0
	for _, e := range list {
		for _, s := range states {
			if e.ExecutorState == s {
				n++
			}
		}
	}
	return n
}

func describe(list []types.ExecutorsSummary) string {
	var parts []string
	for _, e := range list {
		parts = append(parts, fmt.Sprintf("%s %s size=%d start=%d end=%d", aws.ToString(e.ExecutorId), e.ExecutorState,
			aws.ToInt64(e.ExecutorSize), aws.ToInt64(e.StartDateTime), aws.ToInt64(e.TerminationDateTime)))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// completed fails the test unless the calculation completed; it returns its stdout, read
// from the S3-compatible store with the AWS CLI.
func completed(t *testing.T, out *athena.GetCalculationExecutionOutput, cli, s3url, akid, secret string) string {
	t.Helper()
	if out.Status.State != types.CalculationExecutionStateCompleted {
		stderr := ""
		if out.Result != nil && out.Result.StdErrorS3Uri != nil {
			stderr, _, _ = runAWS(t, cli, akid, secret, "s3", "cp", aws.ToString(out.Result.StdErrorS3Uri), "-", "--endpoint-url", s3url)
		}
		t.Fatalf("calculation %s: %s\n%s", out.Status.State, aws.ToString(out.Status.StateChangeReason), stderr)
	}
	got, errOut, err := runAWS(t, cli, akid, secret, "s3", "cp", aws.ToString(out.Result.StdOutS3Uri), "-", "--endpoint-url", s3url)
	if err != nil {
		t.Fatalf("aws s3 cp %s -: %v\n%s", aws.ToString(out.Result.StdOutS3Uri), err, errOut)
	}
	return got
}

// TestCluster: a session whose executors run on a two-worker Spark standalone cluster, with
// results and s3a:// data in versitygw; a worker dies mid-job and the job completes.
func TestCluster(t *testing.T) {
	deps := needClusterDeps(t)
	ctx := context.Background()
	began := time.Now()
	const akid, secret = "glaux-s3", "glaux-s3-secret"

	s3url := startVersity(t, deps.versitygw, akid, secret)
	store, err := objects.NewS3(objects.S3Config{Endpoint: s3url, Region: "us-east-1", PathStyle: true, AccessKey: akid, SecretKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"results", "data"} {
		if err := store.EnsureBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	cluster := startSparkCluster(t, deps.sparkClass, 2)
	t.Logf("cluster and store up after %s", time.Since(began).Round(time.Second))

	cfg := newConfig(t, "")
	cfg.SparkMaster, cfg.SparkDriverHost = cluster.Master, "127.0.0.1"
	cfg.Objects, cfg.S3Endpoint, cfg.S3Region, cfg.S3PathStyle = "s3", s3url, "us-east-1", true
	cfg.S3AccessKey, cfg.S3SecretKey, cfg.S3AJars = akid, secret, deps.jars
	cfg.OutputLocation = "s3://results/"
	s := startServer(t, cfg)
	c := s.Client

	// A workgroup whose master (AdditionalConfiguration) cannot be reached: its session
	// fails at once, saying why.
	dead := fmt.Sprintf("spark://127.0.0.1:%d", freePort(t))
	_, err = c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{
		Name: aws.String("unreachable"),
		Configuration: &types.WorkGroupConfiguration{
			EngineVersion:           &types.EngineVersion{SelectedEngineVersion: aws.String("PySpark engine version 3")},
			ExecutionRole:           aws.String("arn:aws:iam::123456789012:role/glaux-spark"),
			ResultConfiguration:     &types.ResultConfiguration{OutputLocation: aws.String("s3://results/unreachable/")},
			AdditionalConfiguration: aws.String(`{"spark.master":"` + dead + `"}`),
		},
	})
	if err != nil {
		t.Fatalf("CreateWorkGroup: %v", err)
	}
	bad, err := c.StartSession(ctx, &athena.StartSessionInput{WorkGroup: aws.String("unreachable"), EngineConfiguration: &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(2)}})
	if err != nil {
		t.Fatalf("StartSession: %v", err)
	}
	st := waitSession(t, c, *bad.SessionId, 60*time.Second, types.SessionStateIdle, types.SessionStateFailed, types.SessionStateTerminated)
	if reason := aws.ToString(st.StateChangeReason); st.State != types.SessionStateFailed || !strings.Contains(reason, dead) || !strings.Contains(reason, "unreachable") {
		t.Errorf("session on an unreachable master: %s %q; want FAILED naming %s", st.State, reason, dead)
	}

	// The cluster session: up to 2 executors of 1 DPU (MaxConcurrentDpus 3 = coordinator + 2).
	// With a Python file from the S3 store (docs/packages.md).
	if err := store.Put(ctx, "s3://data/py/glauxdep.py", strings.NewReader("NAME = 'from s3'\n")); err != nil {
		t.Fatal(err)
	}
	createSparkWorkGroup(t, c, "cluster")
	session := startIdleSession(t, c, "cluster", func(in *athena.StartSessionInput) {
		in.EngineConfiguration.MaxConcurrentDpus = aws.Int32(3)
		// Executors stay for the whole test (they would go after 60 s idle).
		in.EngineConfiguration.SparkProperties = map[string]string{"spark.dynamicAllocation.executorIdleTimeout": "600s",
			"spark.submit.pyFiles": "s3://data/py/glauxdep.py"}
	})
	t.Logf("session IDLE after %s", time.Since(began).Round(time.Second))

	// Tasks land on both workers: each reports its executor's worker directory.
	out := runCalculation(t, c, session, `
import os, time
def where(_):
    time.sleep(1)
    return os.path.dirname(os.path.dirname(os.getcwd()))
for attempt in range(5):
    dirs = sorted(set(sc.parallelize(range(16), 16).map(where).collect()))
    if len(dirs) >= 2:
        break
print("workers", len(dirs))
`)
	if got := completed(t, out, deps.aws, s3url, akid, secret); got != "workers 2\n" {
		t.Fatalf("tasks ran on: %q; want both workers", got)
	}
	// Spark's REST API may be late on a loaded machine: ListExecutors then answers what it
	// read last, so ask until it has read the workers (or a minute has passed).
	var workers []types.ExecutorsSummary
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		workers = executorsOf(t, c, session, types.ExecutorTypeWorker)
		if countState(workers, types.ExecutorStateRegistered) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if countState(workers, types.ExecutorStateRegistered) < 2 {
		t.Fatalf("ListExecutors: want 2 REGISTERED WORKERs, got %s", describe(workers))
	}
	for _, e := range workers {
		if aws.ToInt64(e.ExecutorSize) != 1 || aws.ToInt64(e.StartDateTime) < began.UnixMilli() {
			t.Errorf("worker executor %s", describe([]types.ExecutorsSummary{e}))
		}
	}
	if coord := executorsOf(t, c, session, types.ExecutorTypeCoordinator); countState(coord, types.ExecutorStateRegistered) != 1 {
		t.Errorf("coordinator: %s", describe(coord))
	}
	t.Logf("two executors after %s: %s", time.Since(began).Round(time.Second), describe(workers))

	// %pip reaches the executors (as the zip of the overlay), and so does the S3 store's
	// Python file.
	wheel := writeWheel(t, t.TempDir(), "glauxpipdemo", "1.0", 42)
	out = runCalculation(t, c, session, "%pip install --no-index "+wheel+`
def names(i):
    import os, glauxpipdemo, glauxdep
    return (glauxpipdemo.VALUE, glauxdep.NAME, os.path.basename(os.path.dirname(os.path.dirname(glauxpipdemo.__file__))))
print(sorted(set(sc.parallelize(range(8), 8).map(names).collect())))
`)
	if got := completed(t, out, deps.aws, s3url, akid, secret); !strings.HasSuffix(got, "[(42, 'from s3', 'pip-overlay-1.zip')]\n") {
		t.Errorf("%%pip and pyFiles on the cluster's executors: %q", got)
	}

	// s3a:// on the same store: write a parquet dataset, read it back.
	out = runCalculation(t, c, session, `
df = spark.range(0, 123457).selectExpr("id", "id % 7 AS k")
df.repartition(4).write.mode("overwrite").parquet("s3a://data/numbers")
back = spark.read.parquet("s3a://data/numbers")
print("count", back.count(), "sum", back.groupBy().sum("id").collect()[0][0])
print("s3 count", spark.read.parquet("s3://data/numbers").where("k = 3").count())
`)
	k3 := 0
	for i := range 123457 {
		if i%7 == 3 {
			k3++
		}
	}
	if got, want := completed(t, out, deps.aws, s3url, akid, secret), fmt.Sprintf("count 123457 sum %d\ns3 count %d\n", 123456*123457/2, k3); got != want {
		t.Errorf("parquet on s3a: %q; want %q", got, want)
	}
	if ok, err := store.Exists(ctx, "s3://data/numbers/_SUCCESS"); !ok || err != nil {
		t.Errorf("s3://data/numbers/_SUCCESS in the store: %v, %v", ok, err)
	}
	t.Logf("s3a round trip after %s", time.Since(began).Round(time.Second))

	// ImportNotebook reads NotebookS3LocationUri through the S3 backend.
	nb := `{"cells":[{"cell_type":"code","execution_count":null,"metadata":{},"outputs":[],"source":["print('from s3')"]}],"metadata":{},"nbformat":4,"nbformat_minor":5}`
	if err := store.Put(ctx, "s3://data/notebooks/imported.ipynb", strings.NewReader(nb)); err != nil {
		t.Fatal(err)
	}
	imp, err := c.ImportNotebook(ctx, &athena.ImportNotebookInput{WorkGroup: aws.String("cluster"), Name: aws.String("imported"), Type: types.NotebookTypeIpynb,
		NotebookS3LocationUri: aws.String("s3://data/notebooks/imported.ipynb")})
	if err != nil {
		t.Fatalf("ImportNotebook from the S3 store: %v", err)
	}
	exp, err := c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: imp.NotebookId})
	if err != nil || !strings.Contains(aws.ToString(exp.Payload), "from s3") {
		t.Errorf("ExportNotebook of the imported notebook: %v %q", err, aws.ToString(exp.Payload))
	}
	if _, err := c.ImportNotebook(ctx, &athena.ImportNotebookInput{WorkGroup: aws.String("cluster"), Name: aws.String("missing"), Type: types.NotebookTypeIpynb,
		NotebookS3LocationUri: aws.String("s3://data/notebooks/missing.ipynb")}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("ImportNotebook of a missing object: %v; want 'does not exist'", err)
	}

	// A worker dies mid-job: its tasks are retried on the other, the job completes, and
	// ListExecutors shows the lost executor ended.
	start, err := c.StartCalculationExecution(ctx, &athena.StartCalculationExecutionInput{SessionId: aws.String(session), CodeBlock: aws.String(`
import time
def slow(i):
    time.sleep(2)
    return i
print("sum", sc.parallelize(range(24), 24).map(slow).sum())
`)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the job to run", time.Minute, func() bool {
		st, err := c.GetCalculationExecutionStatus(ctx, &athena.GetCalculationExecutionStatusInput{CalculationExecutionId: start.CalculationExecutionId})
		return err == nil && st.Status.State == types.CalculationExecutionStateRunning
	})
	time.Sleep(5 * time.Second) // tasks are running on both executors
	killedAt := time.Now()
	cluster.workers[0].kill(syscall.SIGKILL)
	out = waitCalculation(t, c, *start.CalculationExecutionId, 3*time.Minute)
	if got := completed(t, out, deps.aws, s3url, akid, secret); got != "sum 276\n" {
		t.Errorf("job across a lost worker: %q; want sum 276", got)
	}
	var ended []types.ExecutorsSummary
	waitFor(t, "ListExecutors to show the lost executor", 30*time.Second, func() bool {
		workers = executorsOf(t, c, session, types.ExecutorTypeWorker)
		ended = nil
		for _, e := range workers {
			if e.ExecutorState == types.ExecutorStateTerminated || e.ExecutorState == types.ExecutorStateFailed {
				ended = append(ended, e)
			}
		}
		return len(ended) >= 1
	})
	for _, e := range ended {
		if end := aws.ToInt64(e.TerminationDateTime); end < killedAt.Add(-time.Second).UnixMilli() || end > time.Now().UnixMilli() {
			t.Errorf("lost executor's TerminationDateTime: %s (killed at %d)", describe([]types.ExecutorsSummary{e}), killedAt.UnixMilli())
		}
	}
	t.Logf("after the worker loss (%s): %s", time.Since(began).Round(time.Second), describe(workers))

	if _, err := c.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(session)}); err != nil {
		t.Fatal(err)
	}
	waitSession(t, c, session, time.Minute, types.SessionStateTerminated)
}

// TestClusterFlags: the cluster and S3 flags parse, default and refuse as documented.
func TestClusterFlags(t *testing.T) {
	for _, k := range []string{"GLAUX_OBJECTS", "GLAUX_S3_ENDPOINT", "GLAUX_S3_ACCESS_KEY", "GLAUX_S3_SECRET_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"GLAUX_S3_ADDR", "GLAUX_S3_PATH_STYLE", "GLAUX_SPARK_DRIVER_HOST", "GLAUX_S3A_JARS", "GLAUX_CREDENTIALS", "GLAUX_CREDENTIALS_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("GLAUX_CACHE_DIR", "/cache")
	c, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Objects != "dir" || c.S3Addr != "127.0.0.1:4479" || c.S3AJars != "/cache/jars" || c.S3PathStyle || c.SparkDriverHost != "" {
		t.Errorf("defaults: objects %q, s3-addr %q, s3a-jars %q, path style %v, driver host %q", c.Objects, c.S3Addr, c.S3AJars, c.S3PathStyle, c.SparkDriverHost)
	}
	c, err = parseConfig([]string{"--objects", "s3", "--s3-endpoint", "http://127.0.0.1:7070", "--s3-path-style", "--s3-access-key", "a", "--s3-secret-key", "b",
		"--spark-master", "spark://127.0.0.1:7077", "--spark-driver-host", "127.0.0.1", "--s3-addr", ""})
	if err != nil {
		t.Fatal(err)
	}
	if c.Objects != "s3" || c.S3Endpoint != "http://127.0.0.1:7070" || !c.S3PathStyle || c.S3AccessKey != "a" || c.S3SecretKey != "b" || c.S3Addr != "" || c.SparkDriverHost != "127.0.0.1" {
		t.Errorf("flags: %+v", c)
	}
	t.Setenv("GLAUX_OBJECTS", "s3")
	t.Setenv("AWS_ACCESS_KEY_ID", "env-a")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-b")
	t.Setenv("GLAUX_S3_PATH_STYLE", "1")
	if c, err = parseConfig(nil); err != nil || c.S3AccessKey != "env-a" || c.S3SecretKey != "env-b" || !c.S3PathStyle {
		t.Errorf("from the environment: %+v, %v", c, err)
	}
	os.Unsetenv("AWS_ACCESS_KEY_ID")
	os.Unsetenv("AWS_SECRET_ACCESS_KEY")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--objects", "s3"}, "--s3-access-key"},
		{[]string{"--objects", "ftp"}, "--objects must be dir or s3"},
		{[]string{"--objects", "dir", "--s3-addr", "0.0.0.0:4479"}, "test/test"},
	} {
		if _, err := parseConfig(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%v) = %v; want an error about %s", tc.args, err, tc.want)
		}
	}
	if _, err := parseConfig([]string{"--objects", "dir", "--s3-addr", "0.0.0.0:4479", "--credentials", "AK:SK"}); err != nil {
		t.Errorf("serving S3 beyond loopback with real credentials: %v", err)
	}
}
