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
		out = append(out, Example{Base: base, Sources: []lm.Prompt{src}, Label: lm.Argmax(l)})
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
	worst, err := OrthogonalityError(w, shape)
	if err != nil {
		t.Fatal(err)
	}
	if worst > 1e-4 {
		t.Errorf("after training max |WᵀW - I| = %g", worst)
	}
	t.Logf("IIA %.3f -> %.3f in %d steps (%s), loss %.3f -> %.3f", before, after, rep.Steps, rep.Duration, rep.Losses[0], rep.Losses[len(rep.Losses)-1])
}

// Train takes exactly the steps asked for: Steps when set (also when it is
// not a multiple of the batches in an epoch, or more than one epoch's),
// else Epochs full passes; the last step is evaluated, and OnStep sees
// every step once, in order.
func TestTrainTakesTheStepsAskedFor(t *testing.T) {
	data, eval := dasTask(t, 37, 3), dasTask(t, 8, 4) // 5 batches of 8 per epoch
	for _, c := range []struct {
		name   string
		cfg    TrainConfig
		steps  int
		errMsg string
	}{
		{"one step", TrainConfig{Steps: 1}, 1, ""},
		{"part of an epoch", TrainConfig{Steps: 3}, 3, ""},
		{"not a multiple of an epoch", TrainConfig{Steps: 12, Epochs: 1}, 12, ""},
		{"two epochs", TrainConfig{Epochs: 2}, 10, ""},
		{"negative", TrainConfig{Steps: -1}, 0, "pv: train: steps: -1 out of range [0, 1000000000] (0: train for epochs)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			iv, err := New(tiny(t), Config{Representations: []RepresentationConfig{
				{Layer: 2, Component: lm.BlockOutput, InterventionType: LowRankRotatedSpace, LowRankDimension: 2}}})
			if err != nil {
				t.Fatal(err)
			}
			var seen []int
			cfg := c.cfg
			cfg.BatchSize, cfg.Progress, cfg.EvalEvery = 8, io.Discard, 100
			cfg.OnStep = func(step int, _, _ float64) { seen = append(seen, step) }
			rep, err := iv.Train(data, eval, cfg)
			if c.errMsg != "" {
				if err == nil || err.Error() != c.errMsg {
					t.Fatalf("err = %v, want %q", err, c.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Steps != c.steps || len(rep.Losses) != c.steps {
				t.Errorf("Steps %d, %d losses; want %d", rep.Steps, len(rep.Losses), c.steps)
			}
			for i, s := range seen {
				if s != i+1 {
					t.Fatalf("OnStep saw steps %v, want 1..%d", seen, c.steps)
				}
			}
			if len(seen) != c.steps {
				t.Errorf("OnStep called %d times, want %d", len(seen), c.steps)
			}
			if len(rep.EvalSteps) != 1 || rep.EvalSteps[0] != c.steps {
				t.Errorf("evaluated at steps %v, want only the last, %d", rep.EvalSteps, c.steps)
			}
		})
	}
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
