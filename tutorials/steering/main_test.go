package main

import (
	"io"
	"slices"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/tutorials/internal/tut"
)

func TestSteeringChangesTheText(t *testing.T) {
	_, r := tut.Run(t, func(m *gpt2.Model) (*result, error) { return run(m, io.Discard, 4) })
	if slices.Equal(r.Steered, r.Unsteered) {
		t.Errorf("steering changed no continuation: %q", r.Steered)
	}
}
