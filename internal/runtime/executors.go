package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"glaux/internal/athena"
)

// executorsTimeout keeps a wedged driver from stalling ListExecutors; Spark answers the
// first REST call slowly (about 1.5 s) while it sets up its API handlers.
const executorsTimeout = 10 * time.Second

// sparkTimeLayout is how Spark's REST API writes dates (always GMT).
const sparkTimeLayout = "2006-01-02T15:04:05.000GMT"

// sparkExecutor is the part of Spark's ExecutorSummary that Athena reports.
type sparkExecutor struct {
	ID           string `json:"id"`
	IsActive     bool   `json:"isActive"`
	TotalCores   int    `json:"totalCores"`
	MaxMemory    int64  `json:"maxMemory"`
	AddTime      string `json:"addTime"`
	RemoveTime   string `json:"removeTime"`
	RemoveReason string `json:"removeReason"`
}

// Executors reads the driver and executors from Spark's monitoring REST API.
func (r *runner) Executors(ctx context.Context) ([]athena.ExecutorInfo, error) {
	r.mu.Lock()
	ready, reaped := r.ready, r.reaped
	r.mu.Unlock()
	switch {
	case reaped:
		return nil, r.errGone()
	case ready == nil:
		return nil, fmt.Errorf("runtime: runner %d is not ready", r.pid)
	case ready.uiURL == "" && r.fake:
		// No Spark, but the runner itself is a real driver process.
		return []athena.ExecutorInfo{{ID: "driver", IsDriver: true, Active: true, Cores: 1, AddTime: ready.at}}, nil
	case ready.uiURL == "":
		return nil, errors.New("runtime: Spark UI is disabled (spark.ui.enabled=false); executors are unknown")
	}

	u := strings.TrimRight(ready.uiURL, "/") + "/api/v1/applications/" + url.PathEscape(ready.appID) + "/allexecutors"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("runtime: executors: %w", err)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("runtime: executors: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("runtime: executors: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var raw []sparkExecutor
	if err := json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(&raw); err != nil {
		return nil, fmt.Errorf("runtime: executors: %w", err)
	}
	out := make([]athena.ExecutorInfo, 0, len(raw))
	for _, e := range raw {
		out = append(out, e.info())
	}
	return out, nil
}

func (e sparkExecutor) info() athena.ExecutorInfo {
	return athena.ExecutorInfo{
		ID:         e.ID,
		IsDriver:   e.ID == "driver",
		Active:     e.IsActive,
		Cores:      e.TotalCores,
		MemoryMB:   e.MaxMemory / (1 << 20),
		AddTime:    parseSparkTime(e.AddTime),
		RemoveTime: parseSparkTime(e.RemoveTime),
		Failed:     !e.IsActive && failedReason(e.RemoveReason),
	}
}

// failedReason tells a lost executor from one the driver released on purpose (dynamic
// allocation says "Executor killed by driver.", decommissioning says so too).
func failedReason(reason string) bool {
	r := strings.ToLower(reason)
	if r == "" || strings.Contains(r, "killed by driver") || strings.Contains(r, "decommission") {
		return false
	}
	for _, word := range []string{"lost", "exited", "failed", "killed"} {
		if strings.Contains(r, word) {
			return true
		}
	}
	return false
}

func parseSparkTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(sparkTimeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
