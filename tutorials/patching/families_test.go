package main

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/govene/govene/tutorials/internal/tut"
)

func TestMain(m *testing.M) { tut.TestMain(m, main) }

// The tutorial runs on a random checkpoint of every family, called as a
// function and as the program with -model: it patches a layer of the model,
// shows two distributions over the vocabulary that differ, and writes its
// table.
func TestPatchingOnEveryFamily(t *testing.T) {
	cps := tut.OnFamilies(t, run, func(t *testing.T, f tut.Family[*result]) {
		tut.Wrote(t, f.Dir, "patching.html")
		r, d := f.Result, f.Model.Dims()
		if r.Layer < 0 || r.Layer >= d.Layers {
			t.Errorf("patched layer %d of a %d-layer model", r.Layer, d.Layers)
		}
		for _, p := range []struct {
			name string
			p    []float32
		}{{"before", r.Before}, {"after", r.After}} {
			sum := 0.0
			for _, v := range p.p {
				sum += float64(v)
			}
			if len(p.p) != d.Vocab || math.Abs(sum-1) > 1e-3 {
				t.Errorf("%s: %d probabilities summing to %g; want the vocabulary's %d, summing to 1", p.name, len(p.p), sum, d.Vocab)
			}
		}
		if slices.Equal(r.Before, r.After) {
			t.Errorf("patching layer %d from another prompt left the next-token probabilities as they were", r.Layer)
		}
	})
	for _, c := range cps {
		t.Run("program/"+c.Name, func(t *testing.T) {
			out := t.TempDir()
			text := tut.Program(t, "-model", c.Dir, "-out", out)
			file := filepath.Join(out, "patching.html")
			if !strings.Contains(text, c.Dir) || !strings.Contains(text, "wrote "+file) {
				t.Errorf("the program's output names neither the checkpoint %s nor the file %s:\n%s", c.Dir, file, text)
			}
			tut.Wrote(t, out, "patching.html")
		})
	}
}
