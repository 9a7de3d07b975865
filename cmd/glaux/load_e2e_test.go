package main

import (
	"context"
	"os"
	"testing"
	"time"

	"glaux/bench/load/loadgen"
)

// TestLoadShort is the short tier of the load test (bench/load is the few-minutes one, with
// the same load): 50 SigV4 clients polling session and calculation status and listing
// sessions, calculations and workgroups, back to back, while 3 fake-Spark sessions run
// calculations continuously (one running and one queued each) and 2 notebooks are saved
// over and over, for GLAUX_LOAD_DURATION (20s). glaux runs in a process of its own, so its
// memory is its own.
//
// It fails on any 5xx or any failed request at all; on an acknowledged calculation that is
// not listed exactly once, did not end COMPLETED, or whose stdout object is not exactly its
// own marker; on a notebook that does not export its last saved version; and on glaux's RSS
// growing after the warm-up by more than maxGrowth (see there).
func TestLoadShort(t *testing.T) {
	testPython(t)
	dur := 20 * time.Second
	if v := os.Getenv("GLAUX_LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("GLAUX_LOAD_DURATION: %v", err)
		}
		dur = d
	}
	g := startChildGlaux(t, t.TempDir(), "--fake-spark")
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Endpoint: g.Endpoint, AccessKey: "test", SecretKey: "test", DataDir: g.Dir, Pid: g.Pid(),
		Clients: 50, Sessions: 3, InFlight: 2, Notebooks: 2,
		Duration: dur, WarmUp: dur / 4, Sample: 250 * time.Millisecond, Logf: t.Logf,
	})
	if err != nil {
		t.Fatalf("load: %v\nglaux's log:\n%s", err, g.Logs())
	}
	req, errs, s5 := res.Totals()
	t.Logf("%d requests in %s (%.0f/s), %d errors, %d 5xx; %d calculations completed, notebook versions %v\n%s",
		req, res.Elapsed.Round(time.Millisecond), float64(req)/res.Elapsed.Seconds(), errs, s5, res.Completed(), res.NotebookV, res.Table())
	t.Logf("glaux's memory:\n%s", res.MemoryTable(dur/10))
	if res.VerifyRetries > 0 {
		t.Logf("%d reads of the checks after the load were retried (no complete answer)", res.VerifyRetries)
	}
	for _, name := range loadgen.Operations {
		if s := res.Ops[name]; s != nil && s.Errors > 0 {
			t.Errorf("%s: %d of %d requests failed (%d 5xx, %d 4xx, %d without an answer); first: %s", name, s.Errors, s.Requests, s.Status5xx, s.Status4xx, s.Transport, s.FirstErr)
		}
	}
	// The load must have been a load: every kind of request, and calculations flowing.
	for _, name := range loadgen.Operations {
		if s := res.Ops[name]; s == nil || s.Measured == 0 {
			t.Errorf("no %s answered after the warm-up", name)
		}
	}
	if res.Completed() < 3*int(dur/time.Second) {
		t.Errorf("only %d calculations completed in %s", res.Completed(), dur)
	}
	if res.Unfinished > 0 {
		t.Errorf("%d acknowledged calculations were not final a minute after the load ended", res.Unfinished)
	}
	for _, p := range res.Problems {
		t.Error(p)
	}

	// Memory. A leak grows with the work done, and in 3/4 of the run the load does tens of
	// thousands of requests and hundreds of calculations: a leak of even 1 KiB per request
	// shows as tens of MiB. What legitimately moves RSS in a steady state is the Go heap's
	// sawtooth between collections (GOGC=100: up to twice the live heap, a few MiB here) and
	// SQLite's page cache filling up to its bound (2 MiB per connection by default). Comparing
	// the peak of the first third after the warm-up with the peak of the last third absorbs
	// the sawtooth; the bound allows a quarter of the baseline, at least 16 MiB, on top.
	base, last := res.MemoryAfterWarmUp()
	maxGrowth := max(base/4, 16<<20)
	t.Logf("glaux RSS after warm-up: peak %.1f MiB in the first third, %.1f MiB in the last (bound +%.1f MiB)", mib(base), mib(last), mib(maxGrowth))
	if base == 0 {
		t.Errorf("glaux's memory was not sampled")
	} else if last > base+maxGrowth {
		t.Errorf("glaux's RSS grew under steady load: peak %.1f MiB after warm-up, %.1f MiB at the end (more than +%.1f MiB)\n%s", mib(base), mib(last), mib(maxGrowth), res.MemoryTable(dur/20))
	}
	if t.Failed() {
		t.Logf("glaux's log:\n%s", g.Logs())
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
