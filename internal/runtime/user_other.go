//go:build !linux

package runtime

import (
	"errors"
	"log/slog"
	"os/exec"

	"glaux/internal/athena"
)

// RunnerUser is Linux-only: runners get ids of their own through user namespaces.
type RunnerUser struct{}

type identity struct{}

// Isolate refuses outside Linux (nothing to do when name is "").
func Isolate(cfg *Config, name, dataDir, scratchDir string) error {
	if name == "" {
		return nil
	}
	return errors.New("running runners as another user needs Linux user namespaces")
}

func (u *RunnerUser) acquire(*athena.RunnerSpec, *slog.Logger) (*identity, error) { return nil, nil }
func (id *identity) apply(*exec.Cmd)                                              {}
func (id *identity) prepareCalc(string) error                                     { return nil }
func (id *identity) release()                                                     {}
