package main

import (
	"fmt"
	"math"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/trace"
	"github.com/govene/govene/tutorials/internal/tut"
)

// The tutorial runs on a random checkpoint of every family and draws the
// three grids, layers by tokens. What holds for any weights: restoring the
// residual stream after the last block at the last token restores the
// clean prediction, and restoring anything before the subject, which the
// noise did not reach, changes nothing.
func TestTracingOnEveryFamily(t *testing.T) {
	tut.OnFamilies(t, run, func(t *testing.T, f tut.Family[*trace.Result]) {
		r, d := f.Result, f.Model.Dims()
		for i := range r.HeatMaps() {
			tut.Wrote(t, f.Dir, fmt.Sprintf("tracing-%d.svg", i))
		}
		if len(r.Grids) != 3 {
			t.Fatalf("%d grids, want block_output, mlp_output and attention_output", len(r.Grids))
		}
		if !(r.SubjectFrom > 0 && r.SubjectFrom < r.SubjectTo && r.SubjectTo < len(r.Tokens)) {
			t.Fatalf("subject at tokens [%d, %d) of %q", r.SubjectFrom, r.SubjectTo, r.Tokens)
		}
		if !(r.Clean > 0 && r.Clean < 1 && r.Corrupted > 0 && r.Corrupted < 1 && r.Clean != r.Corrupted) {
			t.Errorf("P(target): clean %g, corrupted %g; want two different probabilities", r.Clean, r.Corrupted)
		}
		for _, g := range r.Grids {
			v := g.Result.Values
			if len(v) != d.Layers || len(g.Result.Cols) != len(r.Tokens) {
				t.Errorf("%s: %d rows, %d columns; want %d layers by %d tokens", g.Component, len(v), len(g.Result.Cols), d.Layers, len(r.Tokens))
				continue
			}
			for l, row := range v {
				if len(row) != len(r.Tokens) {
					t.Errorf("%s layer %d: %d values, want %d", g.Component, l, len(row), len(r.Tokens))
					continue
				}
				for p := range r.SubjectFrom {
					if math.Abs(row[p]-r.Corrupted) > 1e-5 {
						t.Errorf("%s layer %d at %q, before the subject: %g, want the corrupted %g", g.Component, l, r.Tokens[p], row[p], r.Corrupted)
					}
				}
			}
			if g.Component == lm.BlockOutput {
				last := v[len(v)-1]
				if got := last[len(last)-1]; math.Abs(got-r.Clean) > 1e-4 {
					t.Errorf("restoring the last layer at the last token gives %g, want the clean %g", got, r.Clean)
				}
			}
		}
	})
}
