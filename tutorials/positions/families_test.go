package main

import (
	"math"
	"testing"

	"github.com/govene/govene/tutorials/internal/tut"
)

// The tutorial runs on a random checkpoint of every family. What holds for
// any weights: patching every name moves the prediction, and patching
// Mary's position moves it unless the sliding windows keep that position
// out of the last token's reach (the Mistral checkpoint's).
func TestPositionsOnEveryFamily(t *testing.T) {
	tut.OnFamilies(t, run, func(t *testing.T, f tut.Family[*result]) {
		tut.Wrote(t, f.Dir, "positions-0.html", "positions-1.html")
		r, vocab := f.Result, f.Model.Dims().Vocab
		if len(r.Clean) != vocab || len(r.One) != vocab || len(r.Several) != vocab {
			t.Fatalf("%d, %d and %d probabilities; want the vocabulary's %d", len(r.Clean), len(r.One), len(r.Several), vocab)
		}
		base := f.Model.Encode("John and Mary went to the store. John gave a drink to")
		const mary = 2
		if base.Tokens[mary] != " Mary" {
			t.Fatalf("token %d of %s is %q, want \" Mary\"", mary, base, base.Tokens[mary])
		}
		if d := maxDiff(r.Clean, r.Several); d == 0 {
			t.Errorf("patching every name left the prediction as it was")
		}
		d := maxDiff(r.Clean, r.One)
		if out := f.Reach > 0 && base.Last()-mary > f.Reach; out {
			if d > 1e-6 {
				t.Errorf("patching Mary's position, %d tokens before the last, moved the prediction by up to %g; the windows reach %d tokens back", base.Last()-mary, d, f.Reach)
			}
		} else if d == 0 {
			t.Errorf("patching Mary's position left the prediction as it was")
		}
	})
}

// maxDiff is the largest |a[i] - b[i]|.
func maxDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}
