//go:build unix

package fsxtest

import (
	"os"
	"syscall"
	"testing"
)

// Mkfifo replaces whatever is at path with a named pipe, or fails the test.
func Mkfifo(t testing.TB, path string) {
	t.Helper()
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Symlink replaces whatever is at path with a symbolic link to target, or
// fails the test.
func Symlink(t testing.TB, target, path string) {
	t.Helper()
	os.Remove(path)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}
