package main

import (
	"io"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/tutorials/internal/tut"
)

func TestPatchingFlipsRomeToParis(t *testing.T) {
	_, r := tut.Run(t, func(m *gpt2.Model) (*result, error) { return run(m, io.Discard) })
	if !(r.RomeBefore > r.ParisBefore) {
		t.Errorf("before patching: P(Rome) %.4f should exceed P(Paris) %.4f", r.RomeBefore, r.ParisBefore)
	}
	if !(r.ParisAfter > r.RomeAfter) {
		t.Errorf("after patching: P(Paris) %.4f should exceed P(Rome) %.4f", r.ParisAfter, r.RomeAfter)
	}
}
