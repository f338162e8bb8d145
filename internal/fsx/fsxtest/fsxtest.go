// Package fsxtest holds what the file-system tests of several packages
// share (hostile files, atomic writes).
package fsxtest

import (
	"os"
	"testing"
	"time"
)

// Timeout is how long Within waits before it fails the test.
const Timeout = 10 * time.Second

// Within runs f in a goroutine and returns its error, or fails the test,
// instead of hanging, when f has not returned after Timeout (a read of a
// FIFO or of an endless file such as /dev/zero would block forever).
func Within(t testing.TB, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(Timeout):
		t.Fatalf("still blocked after %v (hang on a FIFO or an endless file?)", Timeout)
		return nil
	}
}

// Names returns the names of dir's entries, sorted, or fails the test when
// dir cannot be read (a missing folder included).
func Names(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return n
}
