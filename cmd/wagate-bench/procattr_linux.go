package main

import "syscall"

// sysProcAttr makes the kernel kill a child when this process dies, even by SIGKILL, so that no server is
// left running after an interrupted benchmark.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
