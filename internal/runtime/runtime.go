// Package runtime implements athena.Runtime with one Python runner process per session.
// The runner owns the PySpark driver; this package starts it, speaks the runner protocol
// (docs/runner-protocol.md) over fd 3/4, and makes sure it and its JVM die with the session.
package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"glaux/internal/athena"
)

// Config says how runners are started.
type Config struct {
	// Python is the interpreter that runs the runner (and PySpark's Python workers).
	Python string
	// RunnerPath is the directory containing the glaux_runner package; it is put on PYTHONPATH.
	RunnerPath string
	// Env is extra environment for the runner, e.g. GLAUX_FAKE_SPARK=1 or SPARK_HOME=...
	Env []string
	// StartTimeout bounds how long Spark may take to become ready; then the runner is killed.
	StartTimeout time.Duration
	// TerminateGrace is how long Terminate waits for a clean shutdown before signalling.
	TerminateGrace time.Duration
	// User, when set (Isolate), runs each runner under ids of its own (user.go).
	User *RunnerUser
}

const (
	defaultStartTimeout   = 3 * time.Minute
	defaultTerminateGrace = 5 * time.Second
	// killGrace is how long SIGTERM gets before SIGKILL.
	killGrace = 2 * time.Second
	// drainGrace bounds how long events are still read after the runner died: a
	// grandchild that inherited fd 4 must not keep the session from ending.
	drainGrace = 500 * time.Millisecond
	// maxReason is the wire limit of StateChangeReason.
	maxReason = 1024
)

// Processes starts one runner process per session.
type Processes struct {
	cfg Config
	log *slog.Logger
}

var _ athena.Runtime = (*Processes)(nil)

// New returns a runtime with cfg's zero durations replaced by defaults.
func New(cfg Config, log *slog.Logger) *Processes {
	if cfg.Python == "" {
		cfg.Python = "python3"
	}
	// The runner's working directory is its scratch dir, so relative paths would break.
	if strings.ContainsRune(cfg.Python, filepath.Separator) {
		if abs, err := filepath.Abs(cfg.Python); err == nil {
			cfg.Python = abs
		}
	}
	if cfg.RunnerPath != "" {
		if abs, err := filepath.Abs(cfg.RunnerPath); err == nil {
			cfg.RunnerPath = abs
		}
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = defaultStartTimeout
	}
	if cfg.TerminateGrace <= 0 {
		cfg.TerminateGrace = defaultTerminateGrace
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Processes{cfg: cfg, log: log}
}

// Start spawns the session's runner and returns at once; see athena.Runtime.
func (p *Processes) Start(ctx context.Context, spec athena.RunnerSpec, sink func(athena.RunnerEvent)) (athena.Runner, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if spec.SessionID == "" || spec.ScratchDir == "" {
		return nil, fmt.Errorf("runtime: session id and scratch dir are required")
	}
	if sink == nil {
		return nil, fmt.Errorf("runtime: nil event sink")
	}
	return start(p.cfg, spec, sink, p.log.With("session", spec.SessionID))
}
