package main

import (
	"fmt"
	"testing"

	"github.com/govene/govene/models"
	"github.com/govene/govene/trace"
	"github.com/govene/govene/tutorials/internal/tut"
)

func TestTracingPeaksOnTheSubject(t *testing.T) {
	_, r, dir := tut.Run(t, func(m models.Model, o tut.Out) (*trace.Result, error) { return run(m, o) })
	for i := range r.HeatMaps() {
		tut.Wrote(t, dir, fmt.Sprintf("tracing-%d.svg", i))
	}
	if !(r.Clean > 0.5 && r.Corrupted < r.Clean/2) {
		t.Fatalf("clean %.4f, corrupted %.4f: the corruption should hide the answer", r.Clean, r.Corrupted)
	}
	// As in ROME: early on, the subject's tokens carry the fact (restoring
	// one of them brings back much of the clean probability, more than the
	// last token does), and at the last layer only the last token matters.
	g := r.Grids[0].Result
	first := g.Values[0]
	best, bestCol := -1.0, -1
	for col, v := range first {
		if v > best {
			best, bestCol = v, col
		}
	}
	if bestCol < r.SubjectFrom || bestCol >= r.SubjectTo {
		t.Errorf("at layer 0 the peak is at %q, not on the subject %v", r.Tokens[bestCol], r.Tokens[r.SubjectFrom:r.SubjectTo])
	}
	if best < r.Corrupted+0.3*(r.Clean-r.Corrupted) || best <= first[len(first)-1] {
		t.Errorf("restoring the subject at layer 0 gives %.4f (last token %.4f); clean %.4f, corrupted %.4f", best, first[len(first)-1], r.Clean, r.Corrupted)
	}
	// At the last layer only the last token matters.
	last := g.Values[len(g.Values)-1]
	if last[len(last)-1] < r.Clean-1e-4 {
		t.Errorf("restoring the last layer at the last token gives %.4f, clean %.4f", last[len(last)-1], r.Clean)
	}
}
