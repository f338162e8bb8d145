//go:build unix

package fsx

import (
	"os"
	"syscall"
)

// openNoBlock opens path read-only with O_NONBLOCK, so that a named pipe
// swapped in after the stat check does not block the open (the file is
// then refused by the second check). O_NONBLOCK has no effect on reads of
// regular files.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}
