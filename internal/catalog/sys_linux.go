package catalog

import (
	"os"
	"syscall"
)

var interrupt = os.Interrupt

// sysProcAttr: the server dies with glaux, even when glaux is killed.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
