//go:build unix && !linux

package runtime

import (
	"errors"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr {
	// No Pdeathsig outside Linux: a crashed glaux can leave a runner behind here.
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitNoReap is unavailable here; leftovers are then killed just after reaping.
func waitNoReap(int) error { return errors.ErrUnsupported }
