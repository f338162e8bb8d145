package testxla

import (
	"testing"

	"github.com/gomlx/compute"
)

// Pair loads a model twice with load, which gets b and the devices to
// split its work across: every device of b (all), and device 0 alone
// (one), for a test to compare. It fails t when either load fails.
func Pair[M any](t testing.TB, b compute.Backend, load func(b compute.Backend, devices []int) (M, error)) (all, one M) {
	t.Helper()
	every := make([]int, b.NumDevices())
	for i := range every {
		every[i] = i
	}
	var err error
	if all, err = load(b, every); err != nil {
		t.Fatalf("devices %v: %v", every, err)
	}
	if one, err = load(b, []int{0}); err != nil {
		t.Fatalf("devices [0]: %v", err)
	}
	return all, one
}
