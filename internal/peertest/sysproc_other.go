//go:build unix && !linux

package peertest

import "syscall"

// sysProcAttr puts the child in its own process group, so that Stop can end
// everything it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
