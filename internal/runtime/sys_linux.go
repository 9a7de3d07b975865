//go:build linux

package runtime

import (
	"syscall"
	"unsafe"
)

func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		// The runner leads its own group, so the JVM and Python workers die with it.
		Setpgid: true,
		// A runner must never outlive a crashed glaux. The kernel ties this to the forking
		// OS thread, which Go only ends when a goroutine exits while locked to it.
		Pdeathsig: syscall.SIGKILL,
	}
}

// waitNoReap blocks until pid has exited but leaves it unreaped (WNOWAIT): while the
// zombie exists its pid, which is also the group id, cannot be given to anyone else, so
// the group's leftovers can be killed without risk of hitting a stranger.
func waitNoReap(pid int) error {
	const pPID = 1 // idtype_t P_PID
	var siginfo [128]byte
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&siginfo)), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		return nil
	}
}
