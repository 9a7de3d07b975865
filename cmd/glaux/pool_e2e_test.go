package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// waitPool waits until the server's warm pool holds want ready runners.
func waitPool(t *testing.T, s *testServer, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ready, _ := serviceOf(s.cfg).PoolSize()
		if ready >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("warm pool has %d ready runners after %s, want %d", ready, timeout, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// warmRunnerDirs lists the scratch dirs of pooled runners that are still running.
func runningWarmRunners(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(b), "\x00") {
			if v, ok := strings.CutPrefix(kv, "TMPDIR="); ok && strings.HasPrefix(v, filepath.Join(dataDir, "scratch", "pool")) {
				out = append(out, p)
			}
		}
	}
	return out
}

func TestPoolTakeRefillAndShutdown(t *testing.T) {
	testPython(t)
	cfg := newConfig(t, "")
	cfg.FakeSpark, cfg.WarmPool = true, 1
	s := startServer(t, cfg)
	ctx := context.Background()
	createSparkWorkGroup(t, s.Client, "pool")
	waitPool(t, s, 1, 30*time.Second)

	// Take: the session is IDLE in StartSession's own answer, and runs code at once.
	out, err := s.Client.StartSession(ctx, &athena.StartSessionInput{WorkGroup: aws.String("pool"),
		EngineConfiguration: &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(2),
			SparkProperties: map[string]string{"spark.sql.shuffle.partitions": "3"}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.State != types.SessionStateIdle {
		t.Fatalf("StartSession from the warm pool answered %s, want IDLE", out.State)
	}
	calc := runCalculation(t, s.Client, *out.SessionId, "%session_id\nprint(spark.conf.get('spark.sql.shuffle.partitions'))")
	if calc.Status.State != types.CalculationExecutionStateCompleted {
		t.Fatalf("calculation on a warm session: %s %s", calc.Status.State, aws.ToString(calc.Status.StateChangeReason))
	}
	stdout := readObject(t, s, *calc.Result.StdOutS3Uri)
	if want := *out.SessionId + "\n3\n"; stdout != want {
		t.Fatalf("warm session stdout %q, want %q (the session's identity and properties bound)", stdout, want)
	}

	// Refill: the pool has a new ready runner.
	waitPool(t, s, 1, 30*time.Second)

	// Incompatible: a property Spark cannot change at run time starts cold (CREATING).
	cold, err := s.Client.StartSession(ctx, &athena.StartSessionInput{WorkGroup: aws.String("pool"),
		EngineConfiguration: &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(2),
			SparkProperties: map[string]string{"spark.executor.memory": "1g"}}})
	if err != nil {
		t.Fatal(err)
	}
	if cold.State != types.SessionStateCreating {
		t.Fatalf("a session with spark.executor.memory answered %s, want CREATING (a cold start)", cold.State)
	}
	if ready, _ := serviceOf(s.cfg).PoolSize(); ready != 1 {
		t.Fatalf("the cold start took the pooled runner (%d ready left)", ready)
	}
	waitSession(t, s.Client, *cold.SessionId, time.Minute, types.SessionStateIdle)

	// Shutdown stops the pooled runner too.
	dataDir := cfg.DataDir
	s.stop()
	if left := runningWarmRunners(t, dataDir); len(left) > 0 {
		t.Fatalf("warm runners still running after shutdown: %v", left)
	}
}

// A static SQL property passes the name check but Spark refuses it at bind time: the session
// falls back to a cold start instead of failing.
func TestPoolRefusedPropertyStartsCold(t *testing.T) {
	testPython(t)
	cfg := newConfig(t, "")
	cfg.FakeSpark, cfg.WarmPool = true, 1
	s := startServer(t, cfg)
	createSparkWorkGroup(t, s.Client, "pool")
	waitPool(t, s, 1, 30*time.Second)
	id := startIdleSession(t, s.Client, "pool", func(in *athena.StartSessionInput) {
		in.EngineConfiguration.SparkProperties = map[string]string{"spark.sql.filesourceTableRelationCacheSize": "500"}
	})
	calc := runCalculation(t, s.Client, id, "print(spark.conf.get('spark.sql.filesourceTableRelationCacheSize'))")
	if got := readObject(t, s, *calc.Result.StdOutS3Uri); got != "500\n" {
		t.Fatalf("stdout %q", got)
	}
}

// The pool counts toward the session cap: with room for one session, the pooled runner
// yields to a session that must start cold.
func TestPoolYieldsToCap(t *testing.T) {
	testPython(t)
	cfg := newConfig(t, "")
	cfg.FakeSpark, cfg.WarmPool, cfg.MaxSessions = true, 1, 1
	s := startServer(t, cfg)
	createSparkWorkGroup(t, s.Client, "pool")
	waitPool(t, s, 1, 30*time.Second)
	startIdleSession(t, s.Client, "pool", func(in *athena.StartSessionInput) {
		in.EngineConfiguration.SparkProperties = map[string]string{"spark.executor.cores": "1"}
	})
	if _, total := serviceOf(s.cfg).PoolSize(); total != 0 {
		t.Fatalf("pool holds %d runners while the only session slot is used", total)
	}
}
