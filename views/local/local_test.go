package local_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/govene/govene/analysis"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/views/local"
)

// TestLens checks the explorer's data on GPT-2's odd checkpoint against
// package analysis: the grid's last row is the model's own probability of
// the target, and the bars are the heads' direct logit attributions.
func TestLens(t *testing.T) {
	m, err := models.Load(filepath.Join("..", "..", "gpt2", "testdata", "odd"), models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := lm.Prompt{IDs: []int{11, 42, 7, 99, 3}}
	targets := []int{7, 58}
	l, err := local.Lens(m, p, targets)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Tokens) != 5 || len(l.Targets) != 2 {
		t.Fatalf("tokens %q, targets %q", l.Tokens, l.Targets)
	}
	c, err := analysis.RunWithCache(m, []lm.Prompt{p})
	if err != nil {
		t.Fatal(err)
	}
	v := c.Dims.Vocab
	for ti, target := range targets {
		g, err := l.Grid(ti)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Values) != c.Dims.Layers+1 || len(g.Values[0]) != 5 || len(g.Top[0][0]) != 5 {
			t.Fatalf("grid %d rows", len(g.Values))
		}
		last := g.Values[len(g.Values)-1]
		for j := range 5 {
			probs := lm.Softmax(c.Logits[j*v:][:v])
			if d := last[j] - float64(probs[target]); d > 1e-5 || d < -1e-5 {
				t.Errorf("target %d position %d: last row %v, model's probability %v", target, j, last[j], probs[target])
			}
		}
		st, err := c.StackHeadResults(-1, false, false)
		if err != nil {
			t.Fatal(err)
		}
		a, err := analysis.DLA(m, c, st, target)
		if err != nil {
			t.Fatal(err)
		}
		for _, pos := range []int{0, 4} {
			b, err := l.Attribution(pos, ti)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Values) != len(a.Labels) || !strings.Contains(b.Title, "position "+string(rune('0'+pos))) {
				t.Fatalf("bars %q with %d values, want %d", b.Title, len(b.Values), len(a.Labels))
			}
			for k := range a.Labels {
				if d := b.Values[k] - float64(a.At(k, 0, pos, 0)); d > 1e-4 || d < -1e-4 {
					t.Errorf("target %d position %d %s: %v, DLA %v", target, pos, a.Labels[k], b.Values[k], a.At(k, 0, pos, 0))
				}
			}
		}
	}
	for _, bad := range [][]int{nil, {-1}, {v}} {
		if _, err := local.Lens(m, p, bad); err == nil {
			t.Errorf("targets %v: no error", bad)
		}
	}
}
