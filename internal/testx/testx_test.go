package testx

import (
	"errors"
	"sync/atomic"
	"testing"
)

// recorder is a testing.TB that records Fatal and Errorf instead of
// stopping or failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()                           {}
func (r *recorder) Fatal(args ...any)                 { r.failed = true }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = true }
func (r *recorder) Errorf(format string, args ...any) { r.failed = true }

func TestMust(t *testing.T) {
	for _, c := range []struct {
		name     string
		v        int
		err      error
		want     int
		wantFail bool
	}{
		{"value", 7, nil, 7, false},
		{"error", 7, errors.New("no model"), 7, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{TB: t}
			got := Must(func() (int, error) { return c.v, c.err })(r)
			if r.failed != c.wantFail || !c.wantFail && got != c.want {
				t.Errorf("Must(%d, %v) = %d, failed %v; want %d, failed %v", c.v, c.err, got, r.failed, c.want, c.wantFail)
			}
		})
	}
}

func TestSerialThenParallel(t *testing.T) {
	const n = 5
	var calls atomic.Int32
	serial, concurrent := SerialThenParallel(t, n, func(i int) (int, error) {
		calls.Add(1)
		return i * i, nil
	})
	if calls.Load() != 2*n {
		t.Errorf("run called %d times, want %d", calls.Load(), 2*n)
	}
	for i := range n {
		if serial[i] != i*i || concurrent[i] != i*i {
			t.Errorf("result %d: serial %d, concurrent %d; want %d", i, serial[i], concurrent[i], i*i)
		}
	}
	r := &recorder{TB: t}
	SerialThenParallel(r, 2, func(i int) (int, error) { return 0, errors.New("boom") })
	if !r.failed {
		t.Error("an error of run did not fail the test")
	}
}

func TestParallelReturnsEachError(t *testing.T) {
	boom := errors.New("boom")
	errs := Parallel(4, func(i int) error {
		if i%2 == 1 {
			return boom
		}
		return nil
	})
	for i, err := range errs {
		if want := map[bool]error{false: nil, true: boom}[i%2 == 1]; err != want {
			t.Errorf("error %d = %v, want %v", i, err, want)
		}
	}
}

// NoGoMLXDeps passes on a package that links neither GoMLX nor cgo, and
// fails on one that links GoMLX.
func TestNoGoMLXDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, tc := range []struct {
		pkg      string
		wantFail bool
	}{
		{"github.com/govene/govene/internal/testx", false},
		{"github.com/govene/govene/lm", true},
	} {
		ft := &recorder{TB: t}
		NoGoMLXDeps(ft, false, tc.pkg)
		if ft.failed != tc.wantFail {
			t.Errorf("NoGoMLXDeps(%s) failed = %v, want %v", tc.pkg, ft.failed, tc.wantFail)
		}
	}
}
