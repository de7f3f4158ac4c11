package peertest

import "syscall"

// sysProcAttr puts the child in its own process group, so that Stop can end
// everything it started, and kills it if the test binary dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
