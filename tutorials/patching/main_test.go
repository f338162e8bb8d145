package main

import (
	"testing"

	"github.com/govene/govene/models"
	"github.com/govene/govene/tutorials/internal/tut"
)

func TestPatchingFlipsRomeToParis(t *testing.T) {
	_, r, dir := tut.Run(t, func(m models.Model, o tut.Out) (*result, error) { return run(m, o) })
	tut.Wrote(t, dir, "patching.html")
	if !(r.RomeBefore > r.ParisBefore) {
		t.Errorf("before patching: P(Rome) %.4f should exceed P(Paris) %.4f", r.RomeBefore, r.ParisBefore)
	}
	if !(r.ParisAfter > r.RomeAfter) {
		t.Errorf("after patching: P(Paris) %.4f should exceed P(Rome) %.4f", r.ParisAfter, r.RomeAfter)
	}
}
