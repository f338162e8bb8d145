package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/train"
	"github.com/govene/govene/tutorials/internal/tut"
)

func TestDASRaisesTheTarget(t *testing.T) {
	const steps = 60
	var text bytes.Buffer
	_, r, dir := tut.Run(t, func(m models.Model, o tut.Out) (*result, error) {
		o.W = &text
		return run(m, o, steps)
	})
	tut.Wrote(t, dir, "das.svg")
	t.Logf("layer %d rank %d: IIA %.3f -> %.3f, P(target) %.4f -> %.4f", r.Layer, r.Rank, r.IIABefore, r.IIAAfter, r.TargetBefore, r.TargetAfter)
	if r.Steps != steps || len(r.Losses) != steps {
		t.Errorf("asked for %d steps, trained %d (%d losses)", steps, r.Steps, len(r.Losses))
	}
	checkProgress(t, text.String(), steps)
	if !(r.TargetAfter > r.TargetBefore) {
		t.Errorf("training did not raise the target's probability: %.4f -> %.4f", r.TargetBefore, r.TargetAfter)
	}
	if !(r.IIAAfter > r.IIABefore) {
		t.Errorf("training did not raise IIA: %.3f -> %.3f", r.IIABefore, r.IIAAfter)
	}
	if r.Orthogonality > 1e-4 {
		t.Errorf("max |WᵀW - I| = %g after training", r.Orthogonality)
	}
}

// checkProgress checks that each reported step of a run of steps is
// printed once, on a "step N  loss L[  eval IIA A]" line, the first and
// the last among them, and that nothing else speaks of steps.
func checkProgress(t *testing.T, text string, steps int) {
	t.Helper()
	seen := map[int]bool{}
	for _, line := range strings.Split(text, "\n") {
		var step int
		var loss float64
		if _, err := fmt.Sscanf(line, "step %d  loss %g", &step, &loss); err == nil {
			if seen[step] {
				t.Errorf("step %d printed twice", step)
			}
			seen[step] = true
		} else if strings.Contains(line, "step") && !strings.HasPrefix(line, fmt.Sprintf("after %d steps", steps)) {
			t.Errorf("unexpected progress line %q", line)
		}
	}
	if !seen[1] || !seen[steps] {
		t.Errorf("printed steps %v; want the first and the last (%d) among them", seen, steps)
	}
}

// TestOneDimensionalDAS aligns a single direction: which of two cities
// (Paris or Rome) the last token carries, at the last block. Every
// landmark of one city is a base for every landmark of the other.
func TestOneDimensionalDAS(t *testing.T) {
	m, err := tut.Model("")
	if err != nil {
		t.Fatal(err)
	}
	all, err := examples(m, "Paris", "Rome")
	if err != nil {
		t.Fatal(err)
	}
	layer := m.Dims().Layers - 1
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: layer, Component: lm.BlockOutput, InterventionType: pv.LowRankRotatedSpace, LowRankDimension: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	before, err := iv.IIA(all, 32)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := iv.Train(all, nil, pv.TrainConfig{Epochs: 30, BatchSize: 4, Adam: train.Adam{LR: 2e-2}, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	after, err := iv.IIA(all, 32)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1-D DAS at block_output layer %d on %d Paris/Rome pairs: IIA %.3f -> %.3f in %d steps", layer, len(all), before, after, rep.Steps)
	if after < 0.9 {
		t.Errorf("1-D DAS IIA %.3f, want at least 0.9", after)
	}
}
