package main

import (
	"testing"

	"github.com/govene/govene/models"
	"github.com/govene/govene/tutorials/internal/tut"
)

// Steering towards happy raises the mood score of the continuations and
// leans more of them happy; towards sad, the opposite; each by a margin.
func TestSteeringMovesTheMood(t *testing.T) {
	_, r, dir := tut.Run(t, func(m models.Model, o tut.Out) (*result, error) { return run(m, o, 4) })
	tut.Wrote(t, dir, "steering.html")
	n := len(prompts) * samples
	for _, s := range []*setting{r.Unsteered, r.Up, r.Down} {
		t.Logf("%-14s lean happy %d, lean sad %d, mean score %+.2f", s.Name, s.lean(1), s.lean(-1), s.Mean())
		if len(s.Texts) != n || len(s.Scores) != n {
			t.Fatalf("%s: %d continuations, %d scores; want %d", s.Name, len(s.Texts), len(s.Scores), n)
		}
	}
	const margin = 0.25 // mood words per continuation
	if !(r.Up.Mean() >= r.Unsteered.Mean()+margin && r.Up.lean(1) > r.Unsteered.lean(1)) {
		t.Errorf("steering towards happy: mean score %+.2f -> %+.2f, %d -> %d continuations lean happy; want the mean up by %g and more leaning happy",
			r.Unsteered.Mean(), r.Up.Mean(), r.Unsteered.lean(1), r.Up.lean(1), margin)
	}
	if !(r.Down.Mean() <= r.Unsteered.Mean()-margin && r.Down.lean(-1) > r.Unsteered.lean(-1)) {
		t.Errorf("steering towards sad: mean score %+.2f -> %+.2f, %d -> %d continuations lean sad; want the mean down by %g and more leaning sad",
			r.Unsteered.Mean(), r.Down.Mean(), r.Unsteered.lean(-1), r.Down.lean(-1), margin)
	}
}
