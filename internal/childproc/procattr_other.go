//go:build !linux

package childproc

import "syscall"

// sysProcAttr has no portable way to tie a child's life to the harness outside Linux: children are stopped by
// Set.StopAll when the harness ends.
func sysProcAttr() *syscall.SysProcAttr { return nil }
