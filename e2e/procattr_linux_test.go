//go:build linux

package e2e

import "syscall"

// procAttr makes the kernel SIGKILL a wagate child when the test process dies without running its cleanups
// (a timeout panic, SIGPIPE, ^C), so that no server outlives its test.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
