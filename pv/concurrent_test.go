package pv

import (
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/internal/testx"
	"github.com/govene/govene/lm"
)

// The concurrency tests run several goroutines on one model and one
// intervenable Model at once and compare every result with the same call
// made serially (package sweep has the same for Sweepers, and for every
// entry point at once). Run them under the race detector with
//
//	go test -race -gcflags='github.com/gomlx/...=-d=checkptr=0' -run Concurrent ./pv/ ./sweep/
//
// -race turns on checkptr, which GoMLX's AVX-512 matmul kernels
// (gomlx/compute's gobackend/dot/matmul) trip ("pointer arithmetic result
// points to invalid allocation"); the flag turns checkptr off in GoMLX's
// packages only, so govene's code keeps it and the race detector stays on
// everywhere. (-gcflags=all=-d=checkptr=0 also works.)

const goroutines = 6

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
	want, got := testx.SerialThenParallel(t, goroutines, call)
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
	want, got := testx.SerialThenParallel(t, goroutines, run)
	for i := range got {
		if !slices.Equal(got[i].Tokens[0], want[i].Tokens[0]) || !slices.Equal(got[i].Original[0], want[i].Original[0]) {
			t.Errorf("goroutine %d: generated %v (original %v), serial %v (%v)", i, got[i].Tokens[0], got[i].Original[0], want[i].Tokens[0], want[i].Original[0])
		}
	}
}
