// Package testx holds small helpers that the tests of several packages
// share. It imports only the standard library, so that any package's tests
// can use it.
package testx

import "testing"

// Must returns get as a test helper: a function that returns get's value,
// or fails t with get's error (t.Fatal) and returns the zero value. Wrap a
// sync.OnceValues loader with it to build a model or fixture once per test
// binary and fail every test that needs it when building failed.
func Must[T any](get func() (T, error)) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		v, err := get()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
