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
