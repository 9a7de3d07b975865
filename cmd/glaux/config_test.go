package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The default --python is the newest session-runtime environment, never a test-tools one
// (their clients must not be importable by session code) nor an unfinished build.
func TestDefaultPythonPicksTheNewestRuntimeEnvironment(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("GLAUX_CACHE_DIR", cache)
	now := time.Now()
	venvs := []struct {
		name, holds string
		complete    bool
		age         time.Duration
	}{
		{"venv-old-runtime", "requirements.txt\n", true, 3 * time.Hour},
		{"venv-runtime", "requirements.txt\n", true, 2 * time.Hour},
		{"venv-tools", "requirements-test.txt\n", true, time.Hour},
		{"venv-runner-tests", "requirements-runner-test.txt\n", true, time.Hour},
		{"venv-building", "", false, 0},
		{"venv-unmarked", "", true, 0}, // built before markers named their files
	}
	for _, v := range venvs {
		bin := filepath.Join(cache, v.name, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, "python"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
		if !v.complete {
			continue
		}
		marker := filepath.Join(cache, v.name, ".glaux-complete")
		if err := os.WriteFile(marker, []byte(v.holds), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(marker, now.Add(-v.age), now.Add(-v.age)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := defaultPython(), filepath.Join(cache, "venv-runtime", "bin", "python"); got != want {
		t.Fatalf("defaultPython() = %s, want %s", got, want)
	}

	t.Setenv("GLAUX_CACHE_DIR", t.TempDir())
	if got := defaultPython(); got != "python3" {
		t.Fatalf("defaultPython() with no environment = %s, want python3", got)
	}
}
