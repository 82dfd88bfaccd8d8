package childproc

import "syscall"

// sysProcAttr makes the kernel kill a child when the harness dies, even by SIGKILL, so that no server is left
// running after an interrupted run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
