//go:build !linux

package main

import "syscall"

// sysProcAttr has no portable way to tie a child's life to this process outside Linux: children are stopped by
// procs.stopAll when the command ends.
func sysProcAttr() *syscall.SysProcAttr { return nil }
