package sweep

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/internal/testx"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// The concurrency tests run several goroutines on one model and one
// Sweeper at once (and, in TestConcurrentMixed, pv's Forward and Generate
// beside them) and compare every result with the same call made serially.
// Run them under the race detector as pv/concurrent_test.go says.

func TestConcurrentSweeps(t *testing.T) {
	m := tiny(t)
	p := prompt(3, 14, 15, 92, 65)
	cfgs := []Config{
		{Metric: TokenProb(7)},
		{Component: lm.MLPOutput, Window: 2, Metric: LogitDiff(7, 8)},
		{Component: lm.HeadValueOutput, Unit: pv.HeadPos, Positions: []int{4}, Metric: TokenProb(7)},
	}
	for _, resume := range []bool{true, false} {
		t.Run(fmt.Sprint("resume=", resume), func(t *testing.T) {
			sw := New(m, Resume(resume))
			run := func(i int) (*Result, error) {
				cfg := cfgs[i%len(cfgs)]
				if i%2 == 0 {
					return sw.Trace(p, Corruption{Positions: []int{1, 2}, Level: 2, Seed: uint64(i)}, cfg)
				}
				return sw.Patch(p, prompt(4, 14, 15, 92, 66), cfg)
			}
			want, got := testx.SerialThenParallel(t, goroutines, run)
			for i := range got {
				if got[i].Base != want[i].Base || got[i].Source != want[i].Source {
					t.Errorf("goroutine %d: base/source %g/%g, serial %g/%g", i, got[i].Base, got[i].Source, want[i].Base, want[i].Source)
				}
				for r := range want[i].Values {
					if !slices.Equal(got[i].Values[r], want[i].Values[r]) {
						t.Errorf("goroutine %d row %d: %v, serial %v", i, r, got[i].Values[r], want[i].Values[r])
					}
				}
			}
		})
	}
}

// Every entry point at once on one model: Forward, Generate and a sweep on
// the same intervenable model and Sweeper, and the model's own Run.
func TestConcurrentMixed(t *testing.T) {
	m := tiny(t)
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{{Layer: 1, Component: lm.BlockOutput}}})
	if err != nil {
		t.Fatal(err)
	}
	sw := New(m)
	base, src := prompt(2, 4, 6, 8), prompt(1, 3, 5, 7)
	jobs := []func() ([]float32, error){
		func() ([]float32, error) {
			out, err := iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.At(1, 2))
			if err != nil {
				return nil, err
			}
			return tensors.CopyFlatData[float32](out.Logits)
		},
		func() ([]float32, error) {
			g, err := iv.Generate([]lm.Prompt{base}, pv.GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 3}}, pv.Sources(src), pv.At(3, 0))
			if err != nil {
				return nil, err
			}
			var v []float32
			for _, id := range g.Tokens[0] {
				v = append(v, float32(id))
			}
			return v, nil
		},
		func() ([]float32, error) {
			r, err := sw.Trace(base, Corruption{Positions: []int{0, 1}, Level: 1, Seed: 3}, Config{Metric: TokenProb(5)})
			if err != nil {
				return nil, err
			}
			var v []float32
			for _, row := range r.Values {
				for _, x := range row {
					v = append(v, float32(x))
				}
			}
			return v, nil
		},
		func() ([]float32, error) {
			r, err := m.Run([]lm.Prompt{base})
			if err != nil {
				return nil, err
			}
			return tensors.CopyFlatData[float32](r.Logits)
		},
	}
	want := make([][]float32, len(jobs))
	for i, j := range jobs {
		if want[i], err = j(); err != nil {
			t.Fatal(err)
		}
	}
	n := 2 * len(jobs)
	got := make([][]float32, n)
	for i, err := range testx.Parallel(n, func(i int) (err error) { got[i], err = jobs[i%len(jobs)](); return err }) {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	for i := range got {
		if !slices.Equal(got[i], want[i%len(jobs)]) {
			t.Errorf("goroutine %d (job %d): result differs from the serial run's", i, i%len(jobs))
		}
	}
}
