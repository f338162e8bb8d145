package main

import (
	"testing"

	"github.com/govene/govene/models"
	"github.com/govene/govene/tutorials/internal/tut"
)

func TestPatchingNamesMovesThePrediction(t *testing.T) {
	_, r, dir := tut.Run(t, func(m models.Model, o tut.Out) (*result, error) { return run(m, o) })
	tut.Wrote(t, dir, "positions-0.html", "positions-1.html")
	// Mary's position carries Bob in: Bob gains, Mary loses.
	if !(r.One[r.Bob] > r.Clean[r.Bob] && r.One[r.Mary] < r.Clean[r.Mary]) {
		t.Errorf("one position: P(Bob) %.4f -> %.4f, P(Mary) %.4f -> %.4f", r.Clean[r.Bob], r.One[r.Bob], r.Clean[r.Mary], r.One[r.Mary])
	}
	if !(r.Several[r.Bob] > r.Clean[r.Bob]) {
		t.Errorf("several positions: P(Bob) %.4f -> %.4f", r.Clean[r.Bob], r.Several[r.Bob])
	}
}
