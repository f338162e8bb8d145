package testx

import (
	"errors"
	"testing"
)

// recorder is a testing.TB that records Fatal instead of stopping.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()           {}
func (r *recorder) Fatal(args ...any) { r.failed = true }

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
