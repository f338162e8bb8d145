//go:build !unix

package atomicfs

import "os"

// processAlive reports whether a process with this pid may exist: where
// os.FindProcess cannot tell (it always succeeds on some platforms), the
// process counts as alive and its temporaries wait for StaleAge.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
