package plots_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/plots"
)

// A causal-tracing grid (layers x tokens) as a heat map.
func ExampleHeatMap() {
	hm := &plots.HeatMap{
		Title:      "Restoring the residual stream",
		Rows:       []string{"layer 0", "layer 1", "layer 2"},
		Cols:       []string{"<|endoftext|>", "The", " Eiffel", " Tower"},
		Values:     [][]float64{{0.01, 0.02, 0.40, 0.55}, {0.01, 0.03, 0.35, 0.60}, {0.02, 0.02, 0.10, 0.70}},
		ColorLabel: "p( Paris)",
		Highlight:  [][2]int{{2, 3}},
	}
	svg, err := hm.SVG()
	if err != nil {
		panic(err)
	}
	fmt.Println(hm.Cells(), "cells")
	fmt.Println(svg[:39])
	fmt.Println(strings.Contains(svg, "&lt;|endoftext|&gt;"))
	// Output:
	// 12 cells
	// <svg xmlns="http://www.w3.org/2000/svg"
	// true
}

// The top tokens of a next-token distribution as a table.
func ExampleProbTable() {
	vocab := []string{" Paris", " Rome", " London", " the"}
	probs := lm.Softmax([]float32{3, 1, 0.5, 0})
	t := &plots.ProbTable{Title: "next token", Tokens: lm.TopK(probs, 3, func(id int) string { return vocab[id] })}
	h, err := t.HTML()
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Count(h, "<tr"), "rows with the header")
	fmt.Println(strings.Contains(h, "> Paris</code>"))
	// Output:
	// 4 rows with the header
	// true
}

// Base against intervened probabilities, with two tokens always shown.
func ExampleCompareVectors() {
	vocab := []string{" Paris", " Rome", " France", " Italy"}
	label := func(id int) string { return vocab[id] }
	base := []float32{0.70, 0.05, 0.20, 0.05}
	patched := []float32{0.10, 0.60, 0.05, 0.25}
	c, err := plots.CompareVectors("Eiffel Tower -> Colosseum", base, patched, label, 1, plots.CompareOptions{}, " Rome", " Italy")
	if err != nil {
		panic(err)
	}
	for _, r := range c.Rows {
		fmt.Printf("%q %.2f -> %.2f extra=%v\n", r.Token, r.Before, r.After, r.Extra)
	}
	// Output:
	// " Paris" 0.70 -> 0.10 extra=false
	// " Rome" 0.05 -> 0.60 extra=true
	// " Italy" 0.05 -> 0.25 extra=true
}

// Attention of one head: lower triangular for a causal model.
func ExampleAttentionPattern() {
	a := &plots.AttentionPattern{
		Head:    "L5H1",
		Tokens:  []string{"When", " Mary", " and", " John"},
		Weights: [][]float64{{1, 0, 0, 0}, {0.5, 0.5, 0, 0}, {0.2, 0.5, 0.3, 0}, {0.1, 0.6, 0.1, 0.2}},
	}
	svg, err := a.SVG()
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Count(svg, "→ key"), "cells")
	// Output:
	// 10 cells
}

// A logit lens: P(" Mary") when each layer's residual stream at each
// position is read out, with the top tokens on hover and written in the
// cells.
func ExampleLogitLens() {
	top := func(tok string, p float32) []lm.TokenProb { return []lm.TokenProb{{Token: tok, Prob: p}} }
	l := &plots.LogitLens{
		Layers: []string{"embed", "0", "1"}, Tokens: []string{" John", " gave", " a", " drink", " to"}, Target: " Mary",
		Values: [][]float64{{0, 0, 0, 0, 0.01}, {0, 0, 0, 0, 0.2}, {0, 0, 0, 0.01, 0.9}},
		Top: [][][]lm.TokenProb{
			{top(" and", 0.3), top(" a", 0.2), top(" drink", 0.1), top(" to", 0.4), top(" the", 0.3)},
			{top(" and", 0.3), top(" a", 0.5), top(" drink", 0.3), top(" to", 0.6), top(" John", 0.3)},
			{top(" and", 0.4), top(" a", 0.9), top(" drink", 0.7), top(" to", 0.8), top(" Mary", 0.9)},
		},
		ShowTop: true,
	}
	svg, err := l.SVG()
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Count(svg, "<title>layer "), "cells")
	fmt.Println(strings.Contains(svg, "P( Mary) = 90.00%"))
	// Output:
	// 15 cells
	// true
}

// Per-head attributions as bars, the largest magnitudes first.
func ExampleBars() {
	b := &plots.Bars{
		Title:  "direct logit attribution",
		Labels: []string{"L4H3", "L5H2", "L7H0", "L7H2"},
		Values: []float64{0.2, 1.1, 2.7, -0.4},
		Order:  plots.ByMagnitude,
		Limit:  3,
	}
	svg, err := b.SVG()
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Count(svg, `class="bar"`), "bars")
	fmt.Println(strings.Index(svg, ">L7H0<") < strings.Index(svg, ">L5H2<"))
	// Output:
	// 3 bars
	// true
}

// Attribution patching against exact patching, with the correlation.
func ExampleScatter() {
	s := &plots.Scatter{
		Title: "attribution vs exact", XLabel: "attribution patching", YLabel: "activation patching",
		X: []float64{0.1, 0.9, -0.2}, Y: []float64{0.05, 1.0, -0.1}, Labels: []string{"L0H1", "L4H3", "L5H1"},
		Correlation: plots.Float(0.99), Annotate: 1,
	}
	svg, err := s.SVG()
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Count(svg, "<circle"), "points")
	fmt.Println(strings.Contains(svg, "attribution vs exact (r = 0.99)"))
	// Output:
	// 3 points
	// true
}

// Outside a notebook a LiveChart prints progress lines; in GoNB it redraws
// the chart in place.
func ExampleLiveChart() {
	live := plots.NewLiveChart(plots.LineChart{Title: "DAS training", XLabel: "step", YLabel: "loss", LogY: true})
	live.Interval = time.Hour // re-render at the first point and at Flush only
	for step := range 3 {
		live.Add("train", float64(step), 2/float64(step+1))
	}
	if err := live.Flush(); err != nil {
		panic(err)
	}
	// Output:
	// DAS training: train 2 (step 0)
	// DAS training: train 0.6667 (step 2)
}

// A report page with text, a table and a line chart.
func ExampleReport() {
	dir, _ := os.MkdirTemp("", "plots")
	defer os.RemoveAll(dir)
	r := plots.NewReport("Causal tracing").
		Paragraph("GPT-2 small: The Eiffel Tower is in the city of").
		Add(&plots.ProbTable{Tokens: []lm.TokenProb{{ID: 6342, Token: " Paris", Prob: 0.43}}}).
		Heading("Training").
		Add(&plots.LineChart{XLabel: "step", YLabel: "IIA", Series: []plots.Series{{Name: "IIA", Y: []float64{0.5, 0.8, 0.95}}}})
	path := filepath.Join(dir, "report.html")
	if err := plots.WriteFile(r, path); err != nil {
		panic(err)
	}
	page, _ := os.ReadFile(path)
	fmt.Println(string(page[:15]))
	// Output:
	// <!DOCTYPE html>
}
