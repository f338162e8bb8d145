package pv

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// The concurrency tests run several goroutines on one model, one
// intervenable Model and one Sweeper at once and compare every result with
// the same call made serially. Run them under the race detector with
//
//	go test -race -gcflags='github.com/gomlx/...=-d=checkptr=0' -run Concurrent ./pv/
//
// -race turns on checkptr, which GoMLX's AVX-512 matmul kernels
// (gomlx/compute's gobackend/dot/matmul) trip ("pointer arithmetic result
// points to invalid allocation"); the flag turns checkptr off in GoMLX's
// packages only, so govene's code keeps it and the race detector stays on
// everywhere. (-gcflags=all=-d=checkptr=0 also works.)

const goroutines = 6

// parallel runs f(0..n-1) on n goroutines at once and returns their errors.
func parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func flat(t *testing.T, x *tensors.Tensor) []float32 {
	t.Helper()
	v, err := tensors.CopyFlatData[float32](x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestConcurrentForward(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 0, Component: lm.MLPOutput}, {Layer: 2, Component: lm.BlockOutput, InterventionType: Collect}}})
	if err != nil {
		t.Fatal(err)
	}
	base := []lm.Prompt{prompt(5, 9, 13, 21)}
	call := func(i int) (*Output, error) {
		return iv.Forward(base, Sources(prompt(i+1, i+2, i+3)), At(i%3, i%4), WithOriginal())
	}
	want := make([]*Output, goroutines)
	for i := range want {
		if want[i], err = call(i); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]*Output, goroutines)
	for i, err := range parallel(goroutines, func(i int) (err error) { got[i], err = call(i); return err }) {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	for i := range got {
		if d := maxDiff(flat(t, got[i].Logits), flat(t, want[i].Logits)); d != 0 {
			t.Errorf("goroutine %d: logits differ from the serial run's by %g", i, d)
		}
		if d := maxDiff(flat(t, got[i].Original), flat(t, want[i].Original)); d != 0 {
			t.Errorf("goroutine %d: original logits differ by %g", i, d)
		}
		k := iv.Keys()[1]
		if d := maxDiff(flat(t, got[i].Collected[k]), flat(t, want[i].Collected[k])); d != 0 {
			t.Errorf("goroutine %d: collected values differ by %g", i, d)
		}
	}
}

func TestConcurrentSweeps(t *testing.T) {
	m := tiny(t)
	p := prompt(3, 14, 15, 92, 65)
	cfgs := []SweepConfig{
		{Metric: TokenProb(7)},
		{Component: lm.MLPOutput, Window: 2, Metric: LogitDiff(7, 8)},
		{Component: lm.HeadValueOutput, Unit: HeadPos, Positions: []int{4}, Metric: TokenProb(7)},
	}
	for _, resume := range []bool{true, false} {
		t.Run(fmt.Sprint("resume=", resume), func(t *testing.T) {
			sw := NewSweeper(m)
			sw.Resume = resume
			run := func(i int) (*SweepResult, error) {
				cfg := cfgs[i%len(cfgs)]
				if i%2 == 0 {
					return sw.Trace(p, Corruption{Positions: []int{1, 2}, Level: 2, Seed: uint64(i)}, cfg)
				}
				return sw.Patch(p, prompt(4, 14, 15, 92, 66), cfg)
			}
			want := make([]*SweepResult, goroutines)
			for i := range want {
				var err error
				if want[i], err = run(i); err != nil {
					t.Fatal(err)
				}
			}
			got := make([]*SweepResult, goroutines)
			for i, err := range parallel(goroutines, func(i int) (err error) { got[i], err = run(i); return err }) {
				if err != nil {
					t.Fatalf("goroutine %d: %v", i, err)
				}
			}
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

func TestConcurrentGenerate(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.MLPOutput, InterventionType: Addition}}})
	if err != nil {
		t.Fatal(err)
	}
	run := func(i int) (*Generation, error) {
		vec := make([]float32, 16)
		for j := range vec {
			vec[j] = float32((i+j)%5) - 2
		}
		g := GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 4, Temperature: float64(i % 2), Seed: uint64(i)}, InterveneOnPrompt: true, EveryStep: true}
		if i%3 == 0 {
			g.Steps = []int{1, 3}
		}
		return iv.Generate([]lm.Prompt{prompt(4, 8, 15, i+1)}, g, WithOriginal(),
			SourceRepresentations(map[string][][]float32{iv.Keys()[0]: {vec}}))
	}
	want := make([]*Generation, goroutines)
	for i := range want {
		if want[i], err = run(i); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]*Generation, goroutines)
	for i, err := range parallel(goroutines, func(i int) (err error) { got[i], err = run(i); return err }) {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	for i := range got {
		if !slices.Equal(got[i].Tokens[0], want[i].Tokens[0]) || !slices.Equal(got[i].Original[0], want[i].Original[0]) {
			t.Errorf("goroutine %d: generated %v (original %v), serial %v (%v)", i, got[i].Tokens[0], got[i].Original[0], want[i].Tokens[0], want[i].Original[0])
		}
	}
}

// Every entry point at once on one model: Forward, Generate and a sweep on
// the same intervenable model and Sweeper, and the model's own Run.
func TestConcurrentMixed(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.BlockOutput}}})
	if err != nil {
		t.Fatal(err)
	}
	sw := NewSweeper(m)
	base, src := prompt(2, 4, 6, 8), prompt(1, 3, 5, 7)
	jobs := []func() ([]float32, error){
		func() ([]float32, error) {
			out, err := iv.Forward([]lm.Prompt{base}, Sources(src), At(1, 2))
			if err != nil {
				return nil, err
			}
			return tensors.CopyFlatData[float32](out.Logits)
		},
		func() ([]float32, error) {
			g, err := iv.Generate([]lm.Prompt{base}, GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 3}}, Sources(src), At(3, 0))
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
			r, err := sw.Trace(base, Corruption{Positions: []int{0, 1}, Level: 1, Seed: 3}, SweepConfig{Metric: TokenProb(5)})
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
	for i, err := range parallel(n, func(i int) (err error) { got[i], err = jobs[i%len(jobs)](); return err }) {
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
