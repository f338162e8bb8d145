package main

import (
	"io"
	"testing"

	"github.com/govene/govene/tutorials/internal/tut"
)

func TestPatchingFlipsRomeToParis(t *testing.T) {
	t.Setenv("GOVENE_PLOTS_DIR", t.TempDir())
	m, err := tut.Model("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := run(m, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !(r.RomeBefore > r.ParisBefore) {
		t.Errorf("before patching: P(Rome) %.4f should exceed P(Paris) %.4f", r.RomeBefore, r.ParisBefore)
	}
	if !(r.ParisAfter > r.RomeAfter) {
		t.Errorf("after patching: P(Paris) %.4f should exceed P(Rome) %.4f", r.ParisAfter, r.RomeAfter)
	}
}
