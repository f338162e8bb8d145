package trace

import (
	"reflect"
	"strings"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/sweep"
)

func TestSpanAndRun(t *testing.T) {
	c := gpt2.DefaultConfig()
	c.NLayer, c.NHead, c.NEmbd = 2, 2, 16
	m, err := gpt2.Random(c, 1, gpt2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	from, to, err := Span(m, "The Space Needle is in downtown", "Space Needle")
	if err != nil || from != 1 || to != 4 {
		t.Fatalf("Span = %d, %d, %v; want 1, 4 (\" Space\", \" Need\", \"le\")", from, to, err)
	}
	if _, _, err := Span(m, "The Space Needle", "Eiffel"); err == nil {
		t.Error("a subject not in the prompt should be an error")
	}
	r, err := Run(m, sweep.New(m), Config{Prompt: "The Space Needle is in downtown", Subject: "Space Needle", Target: " Seattle", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Grids) != 3 || len(r.Grids[0].Result.Values) != 2 || len(r.Grids[0].Result.Values[0]) != 7 {
		t.Fatalf("unexpected grids %+v", r.Grids)
	}
	// Restoring the last layer's residual at the last token restores the
	// clean prediction exactly.
	if d := r.Grids[0].Result.Values[1][6] - r.Clean; d > 1e-6 || d < -1e-6 {
		t.Errorf("restoring the final residual: %g, clean %g", r.Grids[0].Result.Values[1][6], r.Clean)
	}
	html, err := r.Report().HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"restoring block_output", "restoring mlp_output", "restoring attention_output", "Seattle"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The heat maps put tokens down and layers across, with axis titles and
	// the corrupted and clean probabilities marked on the color bar.
	for _, h := range r.HeatMaps() {
		svg, err := h.SVG()
		if err != nil {
			t.Fatal(err)
		}
		if !h.Transpose || h.RowTitle != "layer" || len(h.Marks) != 2 || h.Marks[0].Value != r.Corrupted || h.Marks[1].Value != r.Clean {
			t.Errorf("%s: Transpose %v, RowTitle %q, Marks %+v", h.Title, h.Transpose, h.RowTitle, h.Marks)
		}
		for _, want := range []string{">layer</text>", ">token (* = subject)</text>", ">corrupted ", ">clean "} {
			if !strings.Contains(svg, want) {
				t.Errorf("%s: SVG lacks %q", h.Title, want)
			}
		}
	}
	if _, err := Run(m, sweep.New(m), Config{Prompt: "The Space Needle", Subject: "Space", Target: " Seattle Washington"}); err == nil {
		t.Error("a multi-token target should be an error")
	}
}

func TestReportHasTheProbabilityTable(t *testing.T) {
	c := gpt2.DefaultConfig()
	c.NLayer, c.NHead, c.NEmbd = 2, 2, 16
	m, _ := gpt2.Random(c, 1, gpt2.Options{})
	r, err := Run(m, sweep.New(m), Config{Prompt: "The Space Needle is in downtown", Subject: "Space Needle", Target: " Seattle", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The clean probability of the target matches the sweep's.
	id, _ := m.TokenID(" Seattle")
	if d := float64(r.CleanProbs[id]) - r.Clean; d > 1e-6 || d < -1e-6 {
		t.Errorf("clean P(target) %g vs the sweep's %g", r.CleanProbs[id], r.Clean)
	}
	if d := float64(r.CorruptedProbs[id]) - r.Corrupted; d > 1e-5 || d < -1e-5 {
		t.Errorf("corrupted P(target) %g vs the sweep's %g", r.CorruptedProbs[id], r.Corrupted)
	}
	html, _ := r.Report().HTML()
	if !strings.Contains(html, "corrupted") || !strings.Contains(html, "clean") {
		t.Error("the report has no clean/corrupted probability table")
	}
}

// Data holds the result's values, copied, and the report renders from it.
func TestDataAndProgress(t *testing.T) {
	c := gpt2.DefaultConfig()
	c.NLayer, c.NHead, c.NEmbd = 2, 2, 16
	m, err := gpt2.Random(c, 1, gpt2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	finished := map[lm.Component]int{}
	r, err := Run(m, sweep.New(m), Config{Prompt: "The Space Needle is in downtown", Subject: "Space Needle", Target: " Seattle", Seed: 1},
		OnProgress(func(c lm.Component, done, total int) {
			if done == total {
				finished[c]++
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[lm.Component]int{lm.BlockOutput: 1, lm.MLPOutput: 1, lm.AttentionOutput: 1}
	if !reflect.DeepEqual(finished, want) {
		t.Errorf("grids finished %v, want %v", finished, want)
	}
	d := r.Data()
	if d.Config != r.Config || !reflect.DeepEqual(d.Tokens, r.Tokens) || d.Clean != r.Clean || d.Corrupted != r.Corrupted ||
		d.SubjectFrom != r.SubjectFrom || d.SubjectTo != r.SubjectTo || d.NoiseLevel != r.NoiseLevel ||
		!reflect.DeepEqual(d.CleanProbs, r.CleanProbs) || !reflect.DeepEqual(d.CorruptedProbs, r.CorruptedProbs) {
		t.Errorf("Data %+v does not hold the result's values", d)
	}
	if len(d.Grids) != len(r.Grids) {
		t.Fatalf("%d grids, want %d", len(d.Grids), len(r.Grids))
	}
	for i, g := range d.Grids {
		if g.Component != r.Grids[i].Component || g.Window != r.Grids[i].Window || !reflect.DeepEqual(g.Result, *r.Grids[i].Result) {
			t.Errorf("grid %d differs", i)
		}
	}
	d.Grids[0].Result.Values[0][0] = 42
	if r.Grids[0].Result.Values[0][0] == 42 {
		t.Error("Data shares the grids' values with the result")
	}
	if !reflect.DeepEqual(r.HeatMaps(), plots.TraceHeatMaps(r.Data())) {
		t.Error("HeatMaps is not plots.TraceHeatMaps of Data")
	}
	if (*Result)(nil).Data() != nil {
		t.Error("a nil result's Data is not nil")
	}
}
