package runtime

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"glaux/internal/athena"
)

// allexecutors as Spark 4 answers it: a driver, a live executor, one released by dynamic
// allocation and one lost with its host.
const allExecutorsJSON = `[
 {"id":"driver","hostPort":"10.0.0.1:40000","isActive":true,"totalCores":4,"maxMemory":455501414,
  "addTime":"2024-01-02T03:04:05.678GMT","rddBlocks":0},
 {"id":"1","isActive":true,"totalCores":2,"maxMemory":2147483648,"addTime":"2024-01-02T03:05:00.000GMT"},
 {"id":"2","isActive":false,"totalCores":2,"maxMemory":2147483648,"addTime":"2024-01-02T03:05:00.000GMT",
  "removeTime":"2024-01-02T03:09:00.000GMT","removeReason":"Executor killed by driver."},
 {"id":"3","isActive":false,"totalCores":2,"maxMemory":2147483648,"addTime":"2024-01-02T03:05:00.000GMT",
  "removeTime":"2024-01-02T03:10:00.500GMT","removeReason":"Worker lost"}
]`

func TestExecutorsFromSpark(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/api/v1/applications/local-123/allexecutors" {
			http.NotFound(w, req)
			return
		}
		w.Write([]byte(allExecutorsJSON))
	}))
	defer srv.Close()

	r := readyRunner(srv.URL+"/", "local-123")
	got, err := r.Executors(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	want := []athena.ExecutorInfo{
		{ID: "driver", IsDriver: true, Active: true, Cores: 4, MemoryMB: 434, AddTime: at("2024-01-02T03:04:05.678Z")},
		{ID: "1", Active: true, Cores: 2, MemoryMB: 2048, AddTime: at("2024-01-02T03:05:00Z")},
		{ID: "2", Cores: 2, MemoryMB: 2048, AddTime: at("2024-01-02T03:05:00Z"), RemoveTime: at("2024-01-02T03:09:00Z")},
		{ID: "3", Cores: 2, MemoryMB: 2048, AddTime: at("2024-01-02T03:05:00Z"), RemoveTime: at("2024-01-02T03:10:00.5Z"), Failed: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d executors; want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("executor %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestExecutorsErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	for name, r := range map[string]*runner{
		"not ready":   {log: slog.New(slog.DiscardHandler), http: http.DefaultClient},
		"ui disabled": readyRunner("", "local-1"),
		"http 404":    readyRunner(srv.URL, "local-1"),
		"no server":   readyRunner("http://127.0.0.1:1", "local-1"),
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := r.Executors(context.Background()); err == nil {
				t.Fatalf("Executors = %+v; want an error", got)
			}
		})
	}
}

func TestFailedReason(t *testing.T) {
	for reason, failed := range map[string]bool{
		"":                                        false,
		"Executor killed by driver.":              false,
		"Executor decommission.":                  false,
		"Worker lost":                             true,
		"Command exited with code 137":            true,
		"Executor heartbeat timed out":            false,
		"Container killed by YARN":                true,
		"Unable to create executor due to failed": true,
	} {
		if got := failedReason(reason); got != failed {
			t.Errorf("failedReason(%q) = %v; want %v", reason, got, failed)
		}
	}
}

func readyRunner(ui, appID string) *runner {
	return &runner{
		log:   slog.New(slog.DiscardHandler),
		http:  &http.Client{Timeout: executorsTimeout},
		ready: &readyInfo{appID: appID, uiURL: ui, at: time.Now()},
	}
}
