// Package testx holds small helpers that the tests of several packages
// share. It imports only the standard library, so that any package's tests
// can use it.
package testx

import (
	"os/exec"
	"strings"
	"sync"
	"testing"
)

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

// Parallel runs f(0), …, f(n-1) on n goroutines released at once and
// returns their errors, in order.
func Parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	ready.Add(1)
	for i := range n {
		done.Go(func() { ready.Wait(); errs[i] = f(i) })
	}
	ready.Done()
	done.Wait()
	return errs
}

// SerialThenParallel calls run(0), …, run(n-1) one after the other, then
// again on n goroutines released at once (Parallel), and returns both
// passes' results in order, for a test to compare. It fails t at the first
// error, naming the goroutine in the concurrent pass.
func SerialThenParallel[T any](t testing.TB, n int, run func(i int) (T, error)) (serial, concurrent []T) {
	t.Helper()
	serial = make([]T, n)
	for i := range serial {
		var err error
		if serial[i], err = run(i); err != nil {
			t.Fatal(err)
		}
	}
	concurrent = make([]T, n)
	for i, err := range Parallel(n, func(i int) (err error) { concurrent[i], err = run(i); return err }) {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	return serial, concurrent
}

// NoGoMLXDeps fails t when the packages that args name (import paths, or
// Go files of one package, as `go list` takes them) depend on GoMLX, or on
// cgo unless cgo is true (the standard library's net brings runtime/cgo
// into any program that uses it), as `go list -deps` lists their
// dependencies: what a session client or a notebook cell links must stay
// light. It fails t too when go list fails or lists nothing.
func NoGoMLXDeps(t testing.TB, cgo bool, args ...string) {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list -deps %v: %v", args, err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatalf("go list -deps %v listed nothing", args)
	}
	for _, d := range deps {
		if strings.Contains(d, "gomlx") || (!cgo && (d == "runtime/cgo" || d == "C")) {
			t.Errorf("%v depends on %s; it must stay free of GoMLX%s", args, d, map[bool]string{false: " and cgo", true: ""}[cgo])
		}
	}
}
