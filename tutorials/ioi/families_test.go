package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govene/govene/tutorials/internal/tut"
)

// On a random checkpoint of every family, called as a function and as the
// program with -model, what holds for any weights: the grids are layers x
// heads of finite values, and the files are written.
func TestIOIOnEveryFamily(t *testing.T) {
	files := []string{"ioi-prompts.html", "ioi-heads.svg", "ioi-heads-bars.svg", "ioi-heads-last.svg", "ioi-heads-last-bars.svg", "ioi-attention.svg", "ioi-dla.svg", "ioi-lens.svg"}
	cps := tut.OnFamilies(t, run, func(t *testing.T, f tut.Family[*result]) {
		tut.Wrote(t, f.Dir, files...)
		r, d := f.Result, f.Model.Dims()
		if len(r.CleanLD) != numPrompts || len(r.CorruptLD) != numPrompts {
			t.Fatalf("%d clean and %d corrupted logit differences, want %d", len(r.CleanLD), len(r.CorruptLD), numPrompts)
		}
		if n := r.Prompts[0].Clean.Len(); len(r.Attention) != n || r.Attends < 0 || r.Attends >= n {
			t.Errorf("attention pattern of %d rows attending to %d; want %d rows, a key among them", len(r.Attention), r.Attends, n)
		}
		if r.Lens == nil || len(r.Lens.Values) != d.Layers+1 {
			t.Errorf("logit lens of %v rows; want a row per block input and the final residual, %d", r.Lens, d.Layers+1)
		}
		grids := map[string][][]float64{"every position": r.Heads.Values, "last position": r.HeadsLast.Values, "DLA": r.DLA}
		for name, g := range grids {
			if len(g) != d.Layers {
				t.Fatalf("%s: %d rows, want the %d layers", name, len(g), d.Layers)
			}
			for l, row := range g {
				if len(row) != d.Heads {
					t.Fatalf("%s: layer %d has %d heads, want %d", name, l, len(row), d.Heads)
				}
				for h, v := range row {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Errorf("%s: L%dH%d = %v", name, l, h, v)
					}
				}
			}
		}
	})
	for _, c := range cps {
		t.Run("program/"+c.Name, func(t *testing.T) {
			out := t.TempDir()
			text := tut.Program(t, "-model", c.Dir, "-out", out)
			if !strings.Contains(text, c.Dir) || !strings.Contains(text, "wrote "+filepath.Join(out, "ioi-heads.svg")) {
				t.Errorf("the program's output names neither the checkpoint %s nor its files:\n%s", c.Dir, text)
			}
			tut.Wrote(t, out, files...)
		})
	}
}
