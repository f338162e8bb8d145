package main

import (
	"math"
	"testing"

	"github.com/govene/govene/models"
	"github.com/govene/govene/tutorials/internal/tut"
)

// The tutorial trains on a random checkpoint of every family for a few
// steps: it trains and reports each step, its losses are finite, the
// rotation stays orthonormal and the curves are written. (Whether training
// raises the target is a fact of trained weights.)
func TestDASOnEveryFamily(t *testing.T) {
	const steps = 3
	tut.OnFamilies(t, func(m models.Model, o tut.Out) (*result, error) { return run(m, o, steps) }, func(t *testing.T, f tut.Family[*result]) {
		tut.Wrote(t, f.Dir, "das.svg")
		r, d := f.Result, f.Model.Dims()
		if want := min(64, d.Hidden/2); r.Rank != want || r.Layer < 0 || r.Layer >= d.Layers {
			t.Errorf("rank %d at layer %d; want rank %d at one of the %d layers", r.Rank, r.Layer, want, d.Layers)
		}
		if r.Steps != steps || len(r.Losses) != steps {
			t.Errorf("asked for %d steps, trained %d (%d losses)", steps, r.Steps, len(r.Losses))
		}
		for i, l := range r.Losses {
			if math.IsNaN(l) || math.IsInf(l, 0) || l <= 0 {
				t.Errorf("step %d: loss %g; want a finite cross-entropy > 0", i+1, l)
			}
		}
		for _, v := range []float64{r.IIABefore, r.IIAAfter, r.TargetBefore, r.TargetAfter} {
			if !(v >= 0 && v <= 1) {
				t.Errorf("IIA %g -> %g, P(target) %g -> %g; want values in [0, 1]", r.IIABefore, r.IIAAfter, r.TargetBefore, r.TargetAfter)
				break
			}
		}
		if r.Orthogonality > 1e-4 {
			t.Errorf("max |WᵀW - I| = %g after training", r.Orthogonality)
		}
		checkProgress(t, f.Text, steps)
	})
}
