package pv

import (
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/train"
)

// dasTask makes examples whose label is what the source run predicts: an
// interchange at the last layer can reach full IIA.
func dasTask(t *testing.T, n int, seed uint64) []Example {
	t.Helper()
	m := tiny(t)
	rng := rand.New(rand.NewPCG(seed, 9))
	var out []Example
	for range n {
		mk := func() lm.Prompt {
			ids := make([]int, 5)
			for i := range ids {
				ids[i] = rng.IntN(97)
			}
			return prompt(ids...)
		}
		base, src := mk(), mk()
		r, err := m.Run([]lm.Prompt{src})
		if err != nil {
			t.Fatal(err)
		}
		l, _ := r.NextTokenLogits(0)
		out = append(out, Example{Base: base, Sources: []lm.Prompt{src}, Label: argmax(l)})
	}
	return out
}

func TestDASTrainsLowRank(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 2, Component: lm.BlockOutput, InterventionType: LowRankRotatedSpace, LowRankDimension: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := iv.TrainableParameters(); got != 16*4 {
		t.Errorf("TrainableParameters = %d, want 64", got)
	}
	data, eval := dasTask(t, 64, 1), dasTask(t, 32, 2)
	before, err := iv.IIA(eval, 16)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := iv.Train(data, eval, TrainConfig{Epochs: 8, BatchSize: 16, Adam: trainAdam(0.05), Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if !(rep.Losses[len(rep.Losses)-1] < rep.Losses[0]) {
		t.Errorf("loss did not fall: %v", rep.Losses)
	}
	after := rep.EvalIIA[len(rep.EvalIIA)-1]
	if !(after > before) {
		t.Errorf("IIA %g -> %g: training did not help", before, after)
	}
	w, shape, err := iv.Weight(iv.Keys()[0], "rotate_layer")
	if err != nil {
		t.Fatal(err)
	}
	n, k := shape[0], shape[1]
	worst := 0.0
	for a := range k {
		for b := range k {
			dot := 0.0
			for i := range n {
				dot += float64(w[i*k+a]) * float64(w[i*k+b])
			}
			if a == b {
				dot--
			}
			worst = math.Max(worst, math.Abs(dot))
		}
	}
	if worst > 1e-4 {
		t.Errorf("after training max |WᵀW - I| = %g", worst)
	}
	t.Logf("IIA %.3f -> %.3f in %d steps (%s), loss %.3f -> %.3f", before, after, rep.Steps, rep.Duration, rep.Losses[0], rep.Losses[len(rep.Losses)-1])
}

func trainAdam(lr float64) train.Adam { return train.Adam{LR: lr} }

// Every trainable type builds a training graph with gradients on the
// pure-Go backend and takes a step.
func TestEveryTrainableTypeTrains(t *testing.T) {
	m := tiny(t)
	data := dasTask(t, 8, 4)
	for _, typ := range []Type{RotatedSpace, LowRankRotatedSpace, BoundlessRotatedSpace, SigmoidMaskRotatedSpace, SigmoidMask, Autoencoder, JumpReLUAutoencoder} {
		t.Run(string(typ), func(t *testing.T) {
			iv, err := New(m, Config{Representations: []RepresentationConfig{
				{Layer: 1, InterventionType: typ, LowRankDimension: 4}}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := iv.Train(data, nil, TrainConfig{Epochs: 1, BatchSize: 8, Progress: io.Discard, BoundaryL1: 0.01})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Steps != 1 || math.IsNaN(rep.Losses[0]) {
				t.Errorf("steps %d losses %v", rep.Steps, rep.Losses)
			}
		})
	}
}
