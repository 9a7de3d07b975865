package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that notes how the test ended.
type recorder struct {
	testing.TB
	ended string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Name() string                   { return "TestX" }
func (r *recorder) Fatalf(format string, _ ...any) { r.ended = "failed: " + format; runtime.Goexit() }
func (r *recorder) Skipf(format string, _ ...any)  { r.ended = "skipped: " + format; runtime.Goexit() }

func run(fn func(t testing.TB)) string {
	r := &recorder{}
	done := make(chan struct{})
	go func() { defer close(done); fn(r) }()
	<-done
	return r.ended
}

func TestMissingFailsUnlessOptedOut(t *testing.T) {
	for _, tc := range []struct {
		skip, component, want string
	}{
		{"", Spark, "failed"},
		{"cluster", Spark, "failed"},
		{"cluster,spark", Spark, "skipped"},
		{" spark ", Spark, "skipped"},
		{"all", Browser, "skipped"},
		{"all", "nonsense", "failed"}, // an unknown component is the test's own mistake
	} {
		log := filepath.Join(t.TempDir(), "skips")
		t.Setenv("GLAUX_SKIP", tc.skip)
		t.Setenv("GLAUX_SKIP_LOG", log)
		got := run(func(t testing.TB) { Missing(t, tc.component, "no %s here", "java") })
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("GLAUX_SKIP=%q, Missing(%s): %s, want %s", tc.skip, tc.component, got, tc.want)
		}
		b, _ := os.ReadFile(log)
		if noted := string(b) == tc.component+"\tTestX\tno java here\n"; noted != (tc.want == "skipped") {
			t.Errorf("GLAUX_SKIP=%q: skip log %q", tc.skip, b)
		}
	}
}

func TestNeedSkipsOnlyWhatIsOptedOut(t *testing.T) {
	t.Setenv("GLAUX_SKIP", "cluster")
	t.Setenv("GLAUX_SKIP_LOG", "")
	if got := run(func(t testing.TB) { Need(t, Cluster) }); !strings.HasPrefix(got, "skipped") {
		t.Errorf("Need(cluster) with GLAUX_SKIP=cluster: %q", got)
	}
	if got := run(func(t testing.TB) { Need(t, Spark) }); got != "" {
		t.Errorf("Need(spark) with GLAUX_SKIP=cluster: %q", got)
	}
}
