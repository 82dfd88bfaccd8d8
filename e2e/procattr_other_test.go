//go:build !linux

package e2e

import "syscall"

// procAttr has nothing to add outside Linux: a child may outlive a test process that dies abruptly.
func procAttr() *syscall.SysProcAttr { return nil }
