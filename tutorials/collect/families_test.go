package main

import (
	"testing"

	"github.com/govene/govene/tutorials/internal/tut"
)

// The tutorial runs on a random checkpoint of every family: both sites are
// collected, with the shapes and values of a plain run.
func TestCollectOnEveryFamily(t *testing.T) {
	tut.OnFamilies(t, run, func(t *testing.T, f tut.Family[*result]) {
		if len(f.Result.Keys) != 2 {
			t.Fatalf("collected %v, want the two sites", f.Result.Keys)
		}
		checkCollected(t, f.Model, f.Result)
	})
}
