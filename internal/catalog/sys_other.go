//go:build !linux

package catalog

import (
	"os"
	"syscall"
)

var interrupt = os.Interrupt

// sysProcAttr: no Pdeathsig outside Linux; a crashed glaux can leave the server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
