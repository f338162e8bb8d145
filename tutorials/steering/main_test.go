package main

import (
	"io"
	"slices"
	"testing"

	"github.com/govene/govene/tutorials/internal/tut"
)

func TestSteeringChangesTheText(t *testing.T) {
	t.Setenv("GOVENE_PLOTS_DIR", t.TempDir())
	m, err := tut.Model("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := run(m, io.Discard, 4)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(r.Steered, r.Unsteered) {
		t.Errorf("steering changed no continuation: %q", r.Steered)
	}
}
