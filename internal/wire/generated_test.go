package wire

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsCurrent runs the generator as go:generate does, into a temporary
// directory, and fails when any checked-in generated file differs: the model or the
// generator changed without `go generate ./internal/wire`.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	out := t.TempDir()
	for _, d := range []string{"wire", "api"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "run", "./gen",
		"-model", "model/athena-service-2.json",
		"-rest-model", "model/athena-service-2.botocore-1.44.18.json",
		"-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, b)
	}
	for _, f := range []string{"wire/shapes_gen.go", "wire/validate_gen.go", "wire/ops_gen.go", "api/dispatch_gen.go"} {
		want, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("internal/%s is stale: run go generate ./internal/wire", f)
		}
	}
}
