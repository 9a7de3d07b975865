package athena

import (
	"context"
	"errors"
	"testing"

	"glaux/internal/wire"
)

// ListExecutors answers Spark's live view, and the last one it read when the driver's REST
// API is late (a loaded machine), never just the coordinator of a session that has workers.
func TestListExecutorsKeepsTheLastSnapshot(t *testing.T) {
	e, sid, r := readySession(t, nil)
	list := func() []string {
		t.Helper()
		out, err := e.svc.ListExecutors(context.Background(), &wire.ListExecutorsRequest{SessionId: &sid})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range out.ExecutorsSummary {
			ids = append(ids, string(*x.ExecutorType)+"/"+string(*x.ExecutorState))
		}
		return ids
	}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"live", nil, 2},
		{"REST API late", errors.New("context deadline exceeded"), 2},
		{"answering again", nil, 2},
	} {
		r.mu.Lock()
		r.executorsErr = tc.err
		r.mu.Unlock()
		if got := list(); len(got) != tc.want {
			t.Errorf("%s: executors %v, want %d", tc.name, got, tc.want)
		}
	}
}
