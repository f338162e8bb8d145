package main

import (
	"math"
	"testing"

	"github.com/govene/govene/sweep"
	"github.com/govene/govene/tutorials/internal/tut"
)

// TestMain runs the tutorial's main when tut.Program starts the test
// binary as the program, else the tests.
func TestMain(m *testing.M) { tut.TestMain(m, main) }

// On the shipped model: the clean sentences favour the indirect object,
// the corruption removes most of that, one head in a block that attends
// beyond the previous token restores most of it, and at the last position
// the local blocks' heads (which attend only to the previous token, the
// same in both prompts) restore nothing.
func TestIOIHeads(t *testing.T) {
	_, r, dir := tut.Run(t, run)
	tut.Wrote(t, dir, "ioi-prompts.html", "ioi-heads.svg", "ioi-heads-bars.svg", "ioi-heads-last.svg", "ioi-heads-last-bars.svg", "ioi-attention.svg", "ioi-dla.svg", "ioi-path.svg", "ioi-lens.svg")
	positive := 0
	for i, ld := range r.CleanLD {
		if ld > 0 {
			positive++
		} else {
			t.Logf("clean prompt %q: logit difference %.3f", r.Prompts[i].Clean.Text, ld)
		}
	}
	if positive < len(r.CleanLD)-1 {
		t.Errorf("the clean logit difference is positive for %d of %d prompts; want all but one at most", positive, len(r.CleanLD))
	}
	if !(r.MeanClean > 3 && r.MeanClean-r.MeanCorrupt > 3) {
		t.Errorf("mean logit difference: clean %.3f, corrupted %.3f; want clean above 3 and 3 above corrupted", r.MeanClean, r.MeanCorrupt)
	}
	const local = 4 // the shipped model's blocks 0-3 attend only to the previous token
	for _, g := range []struct {
		name string
		v    [][]float64
		at   [2]int
	}{{"every position", r.Heads.Values, r.Top}, {"last position", r.HeadsLast.Values, r.TopLast}} {
		if v := g.v[g.at[0]][g.at[1]]; !(v > 0.5) || g.at[0] < local {
			t.Errorf("%s: the top head L%dH%d restores %.3f of the logit difference; want more than half, in block %d or later", g.name, g.at[0], g.at[1], v, local)
		}
	}
	if s2 := r.Prompts[0].S2; r.Attends != s2 || r.Attention[len(r.Attention)-1][s2] < 0.5 {
		t.Errorf("L%dH%d attends from the last token mostly to position %d (weight %.2f to the repeated subject at %d); want the repeated subject, above 0.5",
			r.TopLast[0], r.TopLast[1], r.Attends, r.Attention[len(r.Attention)-1][s2], s2)
	}
	// The head that restores the most at the last position also writes the
	// answer most directly (it suppresses the repeated subject), and the
	// layer-0 heads that carry the subject's name reach it through its
	// inputs.
	if len(r.Movers) != 1 || r.Movers[0] != r.TopLast || r.DLA[r.TopLast[0]][r.TopLast[1]] < 2 {
		t.Errorf("the top direct logit attribution heads %v (DLA %v); want L%dH%d above 2", r.Movers, r.DLA, r.TopLast[0], r.TopLast[1])
	} else if at := top(&sweep.Result{Values: r.Path}); at[0] != 0 || r.Path[0][at[1]] > -0.2 {
		t.Errorf("path patching into L%dH%d: the top sender L%dH%d has %.3f; want a layer-0 head below -0.2", r.TopLast[0], r.TopLast[1], at[0], at[1], r.Path[at[0]][at[1]])
	}
	if n := len(r.Lens.Values); r.Lens.Values[n-1][r.Prompts[0].Clean.Last()] < 0.5 {
		t.Errorf("logit lens: the final residual gives P(IO) %.3f at the last position; want the model's own, above 0.5", r.Lens.Values[n-1][r.Prompts[0].Clean.Last()])
	}
	if top := r.Attribution[r.Top[0]][r.Top[1]]; r.AttributionR < 0.9 || top < 0.5 {
		t.Errorf("attribution patching: r = %.3f with exact head patching, %.3f for L%dH%d; want r above 0.9 and the top head above 0.5", r.AttributionR, top, r.Top[0], r.Top[1])
	}
	for l := range local {
		for h, v := range r.HeadsLast.Values[l] {
			if math.Abs(v) > 1e-3 {
				t.Errorf("patching L%dH%d at the last position restores %.4f; a local head there sees the same tokens in both prompts", l, h, v)
			}
		}
	}
}
