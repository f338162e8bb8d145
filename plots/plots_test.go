package plots

import (
	"bytes"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
)

// Tokens that need escaping in XML/HTML or showing with escapes.
var nasty = []string{"<|endoftext|>", `"&"`, " Paris", "\xe2\x80", "a\nb", "it's"}

func nastyHeat() *HeatMap {
	return &HeatMap{
		Title:      `Causal <tracing> & "more"`,
		Rows:       []string{"layer 0", "layer 1"},
		Cols:       nasty,
		Values:     [][]float64{{0, 0.25, 0.5, math.NaN(), math.Inf(1), 0.1}, {1, 0.75, 0.5, 0.25, 0.125, math.Inf(-1)}},
		ColorLabel: "p( Paris)",
		Highlight:  [][2]int{{1, 0}},
	}
}

func causal(n int) [][]float64 {
	w := make([][]float64, n)
	for q := range w {
		w[q] = make([]float64, n)
		for k := 0; k <= q; k++ {
			w[q][k] = 1 / float64(q+1)
		}
	}
	return w
}

func nastyProbs() []lm.TokenProb {
	out := make([]lm.TokenProb, len(nasty))
	for i, s := range nasty {
		out[i] = lm.TokenProb{ID: 100 + i, Token: s, Prob: float32(0.5) / float32(i+1)}
	}
	return out
}

// renderers are one of each kind, with the strings (as written, escaped)
// each output must hold.
func renderers() []struct {
	name string
	r    Renderer
	want []string
} {
	probs := nastyProbs()
	after := slices.Clone(probs)
	after[0].Prob, after[1].Prob = 0.05, 0.9
	lc := &LineChart{Title: "loss <train>", XLabel: "step", YLabel: "loss", Series: []Series{
		{Name: "train & eval", Y: []float64{3, 2, math.NaN(), 1, 0.5}},
		{Name: "iia", X: []float64{0, 2, 4}, Y: []float64{0.1, 0.5, 0.9}},
	}}
	live := NewLiveChart(LineChart{Title: "live"})
	live.Out = &bytes.Buffer{}
	live.Add("loss", 0, 1)
	return []struct {
		name string
		r    Renderer
		want []string
	}{
		{"HeatMap", nastyHeat(), []string{"Causal &lt;tracing&gt; &amp; &#34;more&#34;", "&lt;|endoftext|&gt;", "&#34;&amp;&#34;", `\xe2\x80`, `a\nb`, "it&#39;s", "p( Paris)"}},
		{"AttentionPattern", &AttentionPattern{Title: "attn", Head: "L5H1", Tokens: nasty, Weights: causal(len(nasty))}, []string{"L5H1", "&lt;|endoftext|&gt;", "&#34;&amp;&#34;"}},
		{"AttentionHeads", &AttentionHeads{Title: "heads", Tokens: nasty, Weights: [][][]float64{causal(6), causal(6), causal(6)}, Heads: []string{"L0H0", "L0H1", "L0H<2>"}, Columns: 2}, []string{"L0H0", "L0H&lt;2&gt;", "&lt;|endoftext|&gt;"}},
		{"LineChart", lc, []string{"loss &lt;train&gt;", "train &amp; eval", "iia", "step"}},
		{"LiveChart", live, []string{"live", "loss"}},
		{"ProbTable", &ProbTable{Title: "top <k>", Tokens: probs}, []string{"top &lt;k&gt;", "&lt;|endoftext|&gt;", "&#34;&amp;&#34;", "50.00%", `\xe2\x80`}},
		{"Comparison", CompareTable("Paris -> Rome", probs, after, CompareOptions{AfterLabel: "patched"}), []string{"Paris -&gt; Rome", "patched", "base", "&lt;|endoftext|&gt;", "−45.00", "+65.00"}},
		{"LogitLens", nastyLens(), []string{"lens &lt;1&gt;", "&lt;|endoftext|&gt;", "&#34;&amp;&#34;", `\xe2\x80`, "it&#39;s", "embed"}},
		{"Bars", &Bars{Title: "DLA <heads>", Labels: []string{"L0H0", "<|endoftext|>", "a\nb"}, Values: []float64{0.5, -1.25, math.NaN()}, XLabel: "logit diff & more"}, []string{"DLA &lt;heads&gt;", "&lt;|endoftext|&gt;", `a\nb`, "logit diff &amp; more", "-1.25"}},
		{"Scatter", &Scatter{Title: "attribution <vs> exact", X: []float64{0.1, -0.5, math.Inf(1)}, Y: []float64{0.2, -0.4, 1}, Labels: []string{"L0H0", "<|endoftext|>", "x"}, XLabel: "attribution", YLabel: "exact & more", Correlation: Float(0.98), Annotate: 1}, []string{"attribution &lt;vs&gt; exact (r = 0.98)", "&lt;|endoftext|&gt;", "exact &amp; more"}},
	}
}

func TestRenderersWellFormed(t *testing.T) {
	for _, tc := range renderers() {
		t.Run(tc.name, func(t *testing.T) {
			svg, err := tc.r.SVG()
			if err != nil {
				t.Fatalf("SVG: %v", err)
			}
			root := mustParse(t, "SVG", svg)
			if root.name != "svg" || root.attr["xmlns"] != "http://www.w3.org/2000/svg" {
				t.Errorf("SVG root = <%s xmlns=%q>, want <svg xmlns=svg>", root.name, root.attr["xmlns"])
			}
			if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
				t.Errorf("SVG holds NaN or Inf coordinates")
			}
			h, err := tc.r.HTML()
			if err != nil {
				t.Fatalf("HTML: %v", err)
			}
			hroot := mustParse(t, "HTML", h)
			_, table := tc.r.(Texter)
			if hroot.name != "div" || !strings.Contains(hroot.attr["class"], "govene-plot") || (hroot.child("style") == nil) != table {
				t.Errorf("HTML root = <%s class=%q> (table %v), want <div class=govene-plot> with a <style> unless a table", hroot.name, hroot.attr["class"], table)
			}
			page, err := Page(tc.r)
			if err != nil {
				t.Fatalf("Page: %v", err)
			}
			proot := mustParse(t, "Page", page)
			if proot.name != "html" || proot.child("head") == nil || proot.child("body") == nil {
				t.Errorf("page root <%s> lacks head or body", proot.name)
			}
			if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, `<meta charset="utf-8"/>`) {
				t.Errorf("page lacks doctype or charset")
			}
			for _, w := range tc.want {
				for what, s := range map[string]string{"SVG": svg, "HTML": h} {
					if !strings.Contains(s, w) {
						t.Errorf("%s lacks %q", what, w)
					}
				}
			}
		})
	}
}

func TestTokensEscapedAndReadBack(t *testing.T) {
	// Every byte, as a token: the output still parses and shows it.
	var all []string
	for b := 0; b < 256; b += 16 {
		var s []byte
		for c := b; c < b+16; c++ {
			s = append(s, byte(c))
		}
		all = append(all, string(s))
	}
	all = append(all, "\ufffe\uffff", "<!--", "]]>", "</svg>")
	vals := [][]float64{make([]float64, len(all))}
	for _, r := range []Renderer{
		&HeatMap{Cols: all, Values: vals},
		&HeatMap{Title: strings.Join(all, ""), Rows: all[:1], Cols: all, Values: vals},
		&AttentionPattern{Tokens: all, Weights: causal(len(all))},
		&ProbTable{Title: all[0], Tokens: []lm.TokenProb{{Token: all[0]}, {Token: all[2]}, {Token: all[len(all)-1]}}},
		CompareTable(all[1], []lm.TokenProb{{Token: all[1]}}, nil, CompareOptions{BeforeLabel: all[3]}),
		&LineChart{Title: all[0] + all[8], Series: []Series{{Name: all[9], Y: []float64{1, 2}}}},
		NewReport(all[0]).Paragraph(all[1]).Heading(all[2]).Preformatted(all[3]),
	} {
		s, err := r.SVG()
		if _, isReport := r.(*Report); err != nil && !isReport {
			t.Fatalf("%T.SVG: %v", r, err)
		} else if err == nil {
			mustParse(t, "SVG", s)
		}
		h, err := r.HTML()
		if err != nil {
			t.Fatalf("%T.HTML: %v", r, err)
		}
		mustParse(t, "HTML", h)
	}
	// The parsed text of labels is the token, escaped only where it has to.
	root := mustParse(t, "SVG", must(nastyHeat().SVG()))
	for _, want := range []string{"<|endoftext|>", `"&"`, " Paris", `\xe2\x80`, `a\nb`, "it's"} {
		if !root.hasText(want) {
			t.Errorf("no label reads %q", want)
		}
	}
	// Token labels keep their spaces.
	for _, txt := range root.all("text") {
		if txt.text == " Paris" && txt.attr["xml:space"] != "preserve" {
			t.Errorf("token label %q lacks xml:space=preserve: %v", txt.text, txt.attr)
		}
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func TestVisible(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{" Paris", " Paris"},
		{"<|endoftext|>", "<|endoftext|>"},
		{"\n", `\n`},
		{"a\tb\r", `a\tb\r`},
		{"\xe2\x80", `\xe2\x80`},
		{"\x00\x1b\x7f", `\x00\x1b\x7f`},
		{"é 東京", "é 東京"},
		{"\u0085", `\x85`},
		{"\uffff", `\uffff`},
	} {
		if got := visible(tc.in); got != tc.want {
			t.Errorf("visible(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// cells returns the heat map cells (rects with a tooltip) outside the
// legend, by fill and tooltip.
func cells(root *node) (fills, tips []string) {
	var walk func(n *node, inLegend bool)
	walk = func(n *node, inLegend bool) {
		if n.attr["class"] == "legend" {
			inLegend = true
		}
		if n.name == "rect" && !inLegend {
			if c := n.child("title"); c != nil {
				fills, tips = append(fills, n.attr["fill"]), append(tips, c.text)
			}
		}
		for _, c := range n.children {
			walk(c, inLegend)
		}
	}
	walk(root, false)
	return fills, tips
}

func TestHeatMapCellsLegendAndNaN(t *testing.T) {
	for _, tc := range []struct {
		name           string
		hm             *HeatMap
		cells          int
		min, max       string
		nonFinite      map[int]string // cell index -> tooltip value
		highlights     int
		defaultColumns bool
	}{
		{"nan and inf", nastyHeat(), 12, "0", "1", map[int]string{3: "nan", 4: "+inf", 11: "-inf"}, 1, false},
		{"fixed scale", &HeatMap{Values: [][]float64{{0.2, 0.4}, {0.6, 0.8}}, Min: Float(-1), Max: Float(2)}, 4, "-1", "2", nil, 0, true},
		{"negative: symmetric", &HeatMap{Rows: []string{"a"}, Cols: []string{"x", "y"}, Values: [][]float64{{-0.5, 2}}}, 2, "-2", "2", nil, 0, false},
		{"constant", &HeatMap{Rows: []string{"a"}, Cols: []string{"x"}, Values: [][]float64{{3}}, ShowValues: true}, 1, "3", "3", nil, 0, false},
		{"all nan", &HeatMap{Rows: []string{"a"}, Cols: []string{"x"}, Values: [][]float64{{math.NaN()}}}, 1, "0", "1", map[int]string{0: "nan"}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.hm.SVG()
			if err != nil {
				t.Fatal(err)
			}
			root := mustParse(t, "SVG", s)
			fills, tips := cells(root)
			if len(fills) != tc.cells || tc.hm.Cells() != tc.cells {
				t.Fatalf("%d cells drawn, Cells() = %d, want %d", len(fills), tc.hm.Cells(), tc.cells)
			}
			for i, f := range fills {
				v, nonFinite := tc.nonFinite[i]
				if nonFinite != (f == nanColor) {
					t.Errorf("cell %d: fill %s, non-finite %v", i, f, nonFinite)
				}
				if nonFinite && !strings.HasSuffix(tips[i], ": "+v) {
					t.Errorf("cell %d tooltip %q, want it to end in %q", i, tips[i], v)
				}
			}
			if tc.nonFinite != nil && !root.hasText("nan/inf") {
				t.Errorf("no nan entry in the legend")
			}
			var legendTips []string
			for _, l := range root.all("g") {
				if l.attr["class"] == "legend" {
					legendTips = l.tips("text")
				}
			}
			if !slices.Contains(legendTips, "min "+tc.min) || !slices.Contains(legendTips, "max "+tc.max) {
				t.Errorf("legend tooltips %q lack min %s and max %s", legendTips, tc.min, tc.max)
			}
			if !root.hasText(tc.min) || !root.hasText(tc.max) {
				t.Errorf("legend labels lack %s or %s", tc.min, tc.max)
			}
			hl := 0
			for _, r := range root.all("rect") {
				if r.attr["stroke"] == "#e31a1c" {
					hl++
				}
			}
			if hl != tc.highlights {
				t.Errorf("%d highlighted cells, want %d", hl, tc.highlights)
			}
			if tc.defaultColumns && (!root.hasText("0") || !root.hasText("1")) {
				t.Errorf("nil Rows/Cols: no index labels")
			}
		})
	}
	// The tooltip holds the exact value and the labels.
	_, tips := cells(mustParse(t, "SVG", must((&HeatMap{Rows: []string{"L3"}, Cols: []string{" Rome"}, Values: [][]float64{{0.123456789}}}).SVG())))
	if len(tips) != 1 || tips[0] != "L3,  Rome: 0.123456789" {
		t.Errorf("tooltip = %q", tips)
	}
}

func TestHeatMapColumnLabelsRotateWhenLong(t *testing.T) {
	for _, tc := range []struct {
		cols    []string
		rotated bool
	}{
		{[]string{"a", "b"}, false},
		{[]string{"a", " a long token"}, true},
	} {
		root := mustParse(t, "SVG", must((&HeatMap{Cols: tc.cols, Values: [][]float64{{1, 2}}}).SVG()))
		rotated := false
		for _, txt := range root.all("text") {
			if strings.Contains(txt.attr["transform"], "rotate(-45)") {
				rotated = true
			}
		}
		if rotated != tc.rotated {
			t.Errorf("cols %q: rotated %v, want %v", tc.cols, rotated, tc.rotated)
		}
	}
}

func TestAttentionLowerTriangular(t *testing.T) {
	toks := []string{"a", "b", "c", "d"}
	for _, tc := range []struct {
		name  string
		r     Renderer
		cells int
	}{
		{"causal", &AttentionPattern{Tokens: toks, Weights: causal(4)}, 10},
		{"full", &AttentionPattern{Tokens: toks, Weights: causal(4), Full: true}, 16},
		{"heads", &AttentionHeads{Tokens: toks, Weights: [][][]float64{causal(4), causal(4), causal(4)}}, 30},
	} {
		root := mustParse(t, "SVG", must(tc.r.SVG()))
		_, tips := cells(root)
		if len(tips) != tc.cells {
			t.Errorf("%s: %d cells, want %d", tc.name, len(tips), tc.cells)
		}
		if !slices.Contains(tips, `query 3 "d" → key 0 "a": 0.25`) && !slices.Contains(tips, `head 2: query 3 "d" → key 0 "a": 0.25`) {
			t.Errorf("%s: no tooltip for query 3 -> key 0 in %q", tc.name, tips[len(tips)-3:])
		}
	}
}

func TestLineChart(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *LineChart
	}{
		{"gaps", &LineChart{Series: []Series{{Name: "a", Y: []float64{1, math.NaN(), 2, math.Inf(1), 3}}}}},
		{"all nan", &LineChart{Title: "t", Series: []Series{{Name: "a", Y: []float64{math.NaN()}}, {Name: "empty"}}}},
		{"log with zeros", &LineChart{LogY: true, Series: []Series{{Y: []float64{0, -1, 10, 1, 0.01}}}}},
		{"log all zero", &LineChart{LogY: true, Series: []Series{{Y: []float64{0, 0}}}}},
		{"log one value", &LineChart{LogY: true, Series: []Series{{Y: []float64{5, 5}}}}},
		{"one point", &LineChart{Series: []Series{{Name: "p", X: []float64{3}, Y: []float64{7}}}}},
		{"fixed y", &LineChart{YMin: Float(0), YMax: Float(1), Series: []Series{{Name: "iia", Y: []float64{0.2, 0.9}}}}},
		{"fixed y beyond data", &LineChart{YMin: Float(5), Series: []Series{{Y: []float64{0.2, 0.9}}}}},
		{"many series", &LineChart{Series: func() []Series {
			var s []Series
			for i := range 12 {
				s = append(s, Series{Name: strings.Repeat("x", i), Y: []float64{float64(i), float64(i + 1)}})
			}
			return s
		}()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.c.SVG()
			if err != nil {
				t.Fatal(err)
			}
			root := mustParse(t, "SVG", s)
			if strings.Contains(s, "NaN") {
				t.Errorf("NaN in the SVG")
			}
			for _, sr := range tc.c.Series {
				if sr.Name != "" && !root.hasText(sr.Name) {
					t.Errorf("legend lacks %q", sr.Name)
				}
			}
			if !strings.HasPrefix(s, `<svg width="640" height="400"`) {
				t.Errorf("SVG starts %q", head(s, 60))
			}
		})
	}
	// Labelled ticks of a log axis over one decade.
	var labels []string
	for _, tk := range (logTicks{}).Ticks(0.5, 3.2) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if !slices.Equal(labels, []string{"0.5", "1", "2"}) {
		t.Errorf("log tick labels = %q", labels)
	}
}

func TestErrorsNameTheField(t *testing.T) {
	v22 := [][]float64{{1, 2}, {3, 4}}
	for _, tc := range []struct {
		name string
		r    Renderer
		want string
	}{
		{"heat empty", &HeatMap{}, "HeatMap.Values: empty"},
		{"heat empty row", &HeatMap{Values: [][]float64{{}}}, "HeatMap.Values[0]: empty"},
		{"heat rows", &HeatMap{Rows: []string{"a"}, Values: v22}, "HeatMap.Rows"},
		{"heat cols", &HeatMap{Cols: []string{"a", "b", "c"}, Values: v22}, "HeatMap.Values[0]: 2 values, but HeatMap.Cols has 3"},
		{"heat ragged", &HeatMap{Values: [][]float64{{1, 2}, {3}}}, "HeatMap.Values[1]"},
		{"heat highlight", &HeatMap{Values: v22, Highlight: [][2]int{{0, 0}, {2, 0}}}, "HeatMap.Highlight[1]"},
		{"heat min nan", &HeatMap{Values: v22, Min: Float(math.NaN())}, "HeatMap.Min: nan"},
		{"heat max inf", &HeatMap{Values: v22, Max: Float(math.Inf(1))}, "HeatMap.Max: +inf"},
		{"heat min > max", &HeatMap{Values: v22, Min: Float(2), Max: Float(1)}, "HeatMap.Min (2) is above HeatMap.Max (1)"},
		{"heat cell width", &HeatMap{Values: v22, CellWidth: -1}, "HeatMap.CellWidth"},
		{"heat cell height", &HeatMap{Values: v22, CellHeight: math.NaN()}, "HeatMap.CellHeight"},
		{"heat nil", (*HeatMap)(nil), "HeatMap: nil"},
		{"attention tokens", &AttentionPattern{Weights: v22}, "AttentionPattern.Tokens: empty"},
		{"attention rows", &AttentionPattern{Tokens: []string{"a", "b", "c"}, Weights: v22}, "AttentionPattern.Weights: 2 query rows, but AttentionPattern.Tokens has 3"},
		{"attention keys", &AttentionPattern{Tokens: []string{"a", "b"}, Weights: [][]float64{{1, 0}, {1}}}, "AttentionPattern.Weights[1]: 1 keys"},
		{"attention scale", &AttentionPattern{Tokens: []string{"a", "b"}, Weights: v22, Min: Float(1), Max: Float(0)}, "AttentionPattern.Min"},
		{"heads empty", &AttentionHeads{Tokens: []string{"a"}}, "AttentionHeads.Weights: empty"},
		{"heads names", &AttentionHeads{Tokens: []string{"a", "b"}, Weights: [][][]float64{v22}, Heads: []string{"x", "y"}}, "AttentionHeads.Heads: 2 names"},
		{"heads shape", &AttentionHeads{Tokens: []string{"a", "b"}, Weights: [][][]float64{v22, {{1}}}}, "AttentionHeads.Weights[1]"},
		{"heads columns", &AttentionHeads{Tokens: []string{"a", "b"}, Weights: [][][]float64{v22}, Columns: -1}, "AttentionHeads.Columns"},
		{"line no series", &LineChart{}, "LineChart.Series: empty"},
		{"line xy", &LineChart{Series: []Series{{Name: "s", X: []float64{1}, Y: []float64{1, 2}}}}, `LineChart.Series[0] ("s"): len(X) = 1, but len(Y) = 2`},
		{"line ymin", &LineChart{Series: []Series{{Y: []float64{1}}}, YMin: Float(1), YMax: Float(1)}, "LineChart.YMin (1) is not below LineChart.YMax (1)"},
		{"line log ymin", &LineChart{Series: []Series{{Y: []float64{1}}}, LogY: true, YMin: Float(0)}, "LineChart.YMin: 0: a log scale"},
		{"line ymax nan", &LineChart{Series: []Series{{Y: []float64{1}}}, YMax: Float(math.NaN())}, "LineChart.YMax: nan"},
		{"line width", &LineChart{Series: []Series{{Y: []float64{1}}}, Width: 3}, "LineChart.Width"},
		{"table empty", &ProbTable{}, "ProbTable.Tokens: empty"},
		{"lens nil", (*LogitLens)(nil), "LogitLens: nil"},
		{"lens tokens", &LogitLens{Values: v22}, "LogitLens.Tokens: empty"},
		{"lens layers", &LogitLens{Layers: []string{"a"}, Tokens: []string{"x", "y"}, Values: v22}, "LogitLens.Values: 2 rows, but LogitLens.Layers has 1 labels"},
		{"lens cols", &LogitLens{Tokens: []string{"x", "y", "z"}, Values: v22}, "LogitLens.Values[0]: 2 values, but LogitLens.Tokens has 3"},
		{"lens top rows", &LogitLens{Tokens: []string{"x", "y"}, Values: v22, Top: [][][]govene.TokenProb{{nil, nil}}}, "LogitLens.Top: 1 layers, but LogitLens.Values has 2"},
		{"lens top cols", &LogitLens{Tokens: []string{"x", "y"}, Values: v22, Top: [][][]govene.TokenProb{{nil, nil}, {nil}}}, "LogitLens.Top[1]: 1 positions, but LogitLens.Tokens has 2"},
		{"lens show top", &LogitLens{Tokens: []string{"x", "y"}, Values: v22, ShowTop: true}, "LogitLens.ShowTop: needs LogitLens.Top"},
		{"lens rank", &LogitLens{Tokens: []string{"x", "y"}, Values: [][]float64{{0, 1}, {2, -1}}, Rank: true}, "LogitLens.Values[1][1]: rank -1"},
		{"lens scale", &LogitLens{Tokens: []string{"x", "y"}, Values: v22, Min: Float(1), Max: Float(0)}, "LogitLens.Min (1) is above LogitLens.Max (0)"},
		{"lens cell", &LogitLens{Tokens: []string{"x", "y"}, Values: v22, CellWidth: -3}, "LogitLens.CellWidth"},
		{"bars nil", (*Bars)(nil), "Bars: nil"},
		{"bars empty", &Bars{}, "Bars.Values: empty"},
		{"bars labels", &Bars{Labels: []string{"a"}, Values: []float64{1, 2}}, "Bars.Labels: 1 labels, but Bars.Values has 2"},
		{"bars order", &Bars{Values: []float64{1}, Order: 7}, "Bars.Order: 7"},
		{"bars limit", &Bars{Values: []float64{1}, Limit: -1}, "Bars.Limit: -1"},
		{"bars width", &Bars{Values: []float64{1}, Width: 3}, "Bars.Width: 3"},
		{"bars height", &Bars{Values: []float64{1}, BarHeight: math.Inf(1)}, "Bars.BarHeight: +inf"},
		{"scatter nil", (*Scatter)(nil), "Scatter: nil"},
		{"scatter empty", &Scatter{}, "Scatter.X: empty"},
		{"scatter y", &Scatter{X: []float64{1, 2}, Y: []float64{1}}, "Scatter.Y: 1 values, but Scatter.X has 2"},
		{"scatter labels", &Scatter{X: []float64{1}, Y: []float64{1}, Labels: []string{"a", "b"}}, "Scatter.Labels: 2 labels, but Scatter.X has 1 points"},
		{"scatter annotate", &Scatter{X: []float64{1}, Y: []float64{1}, Annotate: -2}, "Scatter.Annotate: -2"},
		{"scatter size", &Scatter{X: []float64{1}, Y: []float64{1}, Size: math.NaN()}, "Scatter.Size: nan"},
		{"comparison empty", CompareTable("", nil, nil, CompareOptions{}), "Comparison.Rows: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errS := tc.r.SVG()
			_, errH := tc.r.HTML()
			errD := Display(tc.r)
			errW := WriteFile(tc.r, filepath.Join(t.TempDir(), "x.html"))
			for what, err := range map[string]error{"SVG": errS, "HTML": errH, "Display": errD, "WriteFile": errW} {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s error = %v, want it to hold %q", what, err, tc.want)
				}
			}
		})
	}
}

func TestCompare(t *testing.T) {
	vocab := []string{"a", " Paris", " Rome", " France", "b"}
	label := func(id int) string { return vocab[id] }
	before := []float32{0.05, 0.6, 0.05, 0.2, 0.1}
	after := []float32{0.05, 0.1, 0.7, 0.1, 0.05}
	c, err := CompareVectors("t", before, after, label, 2, CompareOptions{}, " Rome", "a")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range c.Rows {
		_, d, class := r.delta()
		x := ""
		if r.Extra {
			x = "*"
		}
		got = append(got, r.Token+x+" "+d+" "+class)
	}
	want := []string{" Paris −50.00 down", " France −10.00 down", " Rome* +65.00 up", "a* 0.00 none"}
	if !slices.Equal(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
	h := must(c.HTML())
	root := mustParse(t, "HTML", h)
	var colors []string
	for _, tr := range root.child("table").child("tbody").all("tr") {
		tds := tr.all("td")
		colors = append(colors, tds[len(tds)-1].attr["style"][strings.LastIndex(tds[len(tds)-1].attr["style"], "color:")+6:])
	}
	if !slices.Equal(colors, []string{deltaColors["down"], deltaColors["down"], deltaColors["up"], deltaColors["none"]}) {
		t.Errorf("Δ colors = %q", colors)
	}
	if n := len(root.all("tr")); n != 5 {
		t.Errorf("%d table rows, want 5 (header + 4)", n)
	}

	for _, tc := range []struct {
		name          string
		before, after []float32
		label         func(int) string
		k             int
		extra         []string
		want          string
	}{
		{"empty", nil, nil, label, 2, nil, "before: empty"},
		{"lengths", before, after[:3], label, 2, nil, "after has 3 probabilities, but before has 5"},
		{"k", before, after, label, -1, nil, "k: -1"},
		{"label", before, after, nil, 2, []string{" Rome"}, "label: nil"},
		{"extra", before, after, label, 2, []string{" Rome", " Berlin"}, `extra[1] " Berlin"`},
	} {
		if _, err := CompareVectors("t", tc.before, tc.after, tc.label, tc.k, CompareOptions{}, tc.extra...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}

	// Lists: tokens missing from one side have no Δ.
	c = CompareTable("t", []lm.TokenProb{{ID: 1, Token: " Paris", Prob: 0.5}, {ID: 1, Token: " Paris", Prob: 0.5}}, []lm.TokenProb{{ID: 2, Token: " Rome", Prob: 0.4}}, CompareOptions{})
	if len(c.Rows) != 2 || c.Rows[0].HasAfter || c.Rows[1].HasBefore {
		t.Errorf("rows = %+v", c.Rows)
	}
	if _, d, class := c.Rows[0].delta(); d != "–" || class != "none" {
		t.Errorf("missing Δ = %q %q", d, class)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	good := &HeatMap{Title: "good", Values: [][]float64{{1}}}
	bad := &HeatMap{Title: "bad"}
	for _, ext := range []string{".html", ".svg", ".HTM"} {
		path := filepath.Join(dir, "plot"+ext)
		if err := WriteFile(good, path); err != nil {
			t.Fatal(err)
		}
		first, _ := os.ReadFile(path)
		mustParse(t, ext, string(first))
		if ext == ".svg" && !strings.HasPrefix(string(first), `<?xml version="1.0" encoding="UTF-8"?>`+"\n<svg") {
			t.Errorf("svg file starts %q", head(string(first), 60))
		}
		// A renderer that fails leaves the file as it was.
		if err := WriteFile(bad, path); err == nil {
			t.Errorf("%s: WriteFile of a bad plot succeeded", ext)
		}
		if now, _ := os.ReadFile(path); !bytes.Equal(now, first) {
			t.Errorf("%s: failed write changed the file", ext)
		}
	}
	// A failing rename (path is a folder) leaves the folder and no
	// temporary file behind.
	sub := filepath.Join(dir, "taken.svg")
	if err := os.MkdirAll(filepath.Join(sub, "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(good, sub); err == nil {
		t.Errorf("WriteFile over a folder succeeded")
	}
	if fi, err := os.Stat(filepath.Join(sub, "inner")); err != nil || !fi.IsDir() {
		t.Errorf("folder damaged: %v", err)
	}
	// A folder that cannot be written: the earlier file stays.
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(ro, "plot.html")
	if err := WriteFile(good, path); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o755)
	if os.Geteuid() != 0 { // root writes anyway
		if err := WriteFile(&HeatMap{Title: "second", Values: [][]float64{{2}}}, path); err == nil {
			t.Errorf("WriteFile into a read-only folder succeeded")
		}
		if now, _ := os.ReadFile(path); !bytes.Equal(now, first) {
			t.Errorf("failed write changed the file")
		}
	}
	// A missing folder.
	if err := WriteFile(good, filepath.Join(dir, "missing", "x.svg")); err == nil {
		t.Errorf("WriteFile into a missing folder succeeded")
	}
	// Unknown extensions and nil.
	for _, p := range []string{filepath.Join(dir, "x.png"), filepath.Join(dir, "noext")} {
		if err := WriteFile(good, p); err == nil || !strings.Contains(err.Error(), "extension") {
			t.Errorf("WriteFile(%q) error = %v", p, err)
		}
	}
	if err := WriteFile(nil, filepath.Join(dir, "x.svg")); err == nil {
		t.Errorf("WriteFile(nil) succeeded")
	}
	if err := WriteFile(NewReport("r"), filepath.Join(dir, "r.svg")); err == nil || !strings.Contains(err.Error(), "no SVG form") {
		t.Errorf("report as svg: %v", err)
	}
	// No temporary files are left.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// notebook stands in for GoNB while a test runs.
type notebook struct {
	mu       sync.Mutex
	displays []string
	updates  [][2]string
	bundles  []map[string]string // every output, in order
	syncs    int
	err      error
}

func fakeNotebook(t *testing.T, in bool) *notebook {
	nb := &notebook{}
	old := []any{inNotebook, publish, uniqueID, notebookErr, syncNotebook}
	inNotebook = func() bool { return in }
	publish = func(id string, b map[string]string) {
		nb.mu.Lock()
		defer nb.mu.Unlock()
		nb.bundles = append(nb.bundles, b)
		if id == "" {
			nb.displays = append(nb.displays, b[MIMEHTML])
		} else {
			nb.updates = append(nb.updates, [2]string{id, b[MIMEHTML]})
		}
	}
	n := 0
	uniqueID = func() string { n++; return "id" + string(rune('0'+n)) }
	notebookErr = func() error { nb.mu.Lock(); defer nb.mu.Unlock(); return nb.err }
	syncNotebook = func() { nb.mu.Lock(); nb.syncs++; nb.mu.Unlock() }
	t.Cleanup(func() {
		inNotebook = old[0].(func() bool)
		publish = old[1].(func(string, map[string]string))
		uniqueID = old[2].(func() string)
		notebookErr = old[3].(func() error)
		syncNotebook = old[4].(func())
	})
	return nb
}

func TestDisplayAndShow(t *testing.T) {
	hm := &HeatMap{Title: "hm", Values: [][]float64{{1}}}
	t.Run("outside a notebook", func(t *testing.T) {
		nb := fakeNotebook(t, false)
		if err := Display(hm); err != nil {
			t.Errorf("Display = %v", err)
		}
		if InNotebook() || len(nb.displays) != 0 {
			t.Errorf("Display outside a notebook displayed %d", len(nb.displays))
		}
		if err := Display(nil); err == nil {
			t.Errorf("Display(nil) = nil")
		}
		dir := filepath.Join(t.TempDir(), "plots")
		t.Setenv(DirEnvVar, dir)
		for _, tc := range []struct{ name, file string }{{"heat", "heat.html"}, {"heat.svg", "heat.svg"}, {"sub/x.htm", "sub/x.htm"}} {
			p, err := Show(hm, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, tc.file); p != want {
				t.Errorf("Show(%q) = %q, want %q", tc.name, p, want)
			}
			mustParse(t, p, string(mustRead(t, p)))
		}
		abs := filepath.Join(t.TempDir(), "abs.svg")
		if p, err := Show(hm, abs); err != nil || p != abs {
			t.Errorf("Show(abs) = %q, %v", p, err)
		}
		if _, err := Show(hm, ""); err == nil {
			t.Errorf("Show with no name succeeded")
		}
		t.Setenv(DirEnvVar, "")
		t.Chdir(t.TempDir())
		if p, err := Show(hm, "here"); err != nil || filepath.Base(p) != "here.html" || !filepath.IsAbs(p) {
			t.Errorf("Show in the current folder = %q, %v", p, err)
		}
	})
	t.Run("inside a notebook", func(t *testing.T) {
		nb := fakeNotebook(t, true)
		if err := Display(hm); err != nil {
			t.Fatal(err)
		}
		if p, err := Show(hm, "x"); err != nil || p != "" {
			t.Errorf("Show in a notebook = %q, %v", p, err)
		}
		want, err := NotebookBundle(hm)
		if err != nil {
			t.Fatal(err)
		}
		if len(nb.displays) != 2 || nb.displays[0] != want[MIMEHTML] || !maps.Equal(nb.bundles[0], want) {
			t.Errorf("displayed %d, want 2 of the notebook bundle", len(nb.displays))
		}
		if nb.syncs != 2 {
			t.Errorf("Display and Show synced with GoNB %d times, want 2 (once each, so a cell's last output is not lost)", nb.syncs)
		}
		nb.err = errors.New("pipe broken")
		if err := Display(hm); err == nil || !strings.Contains(err.Error(), "pipe broken") {
			t.Errorf("Display with a broken pipe = %v", err)
		}
	})
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLiveChart(t *testing.T) {
	t.Run("notebook: updates one output in place", func(t *testing.T) {
		nb := fakeNotebook(t, true)
		c := NewLiveChart(LineChart{Title: "loss", XLabel: "step"})
		c.Interval = time.Hour
		c.Add("train", 0, 2)
		c.Add("train", 1, 1.5)
		c.Add("eval", 1, 1.7)
		if len(nb.updates) != 1 {
			t.Errorf("%d updates before Flush, want 1 (throttled)", len(nb.updates))
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(); err != nil { // nothing pending: no update
			t.Fatal(err)
		}
		if len(nb.updates) != 2 || nb.updates[0][0] != nb.updates[1][0] || nb.updates[0][0] == "" {
			t.Fatalf("updates = %d with ids %v, want 2 with one id", len(nb.updates), nb.updates)
		}
		last := imgSVG(t, nb.updates[1][1])
		if !last.hasText("train") || !last.hasText("eval") {
			t.Errorf("last update lacks a series")
		}
		if nb.syncs != 2 {
			t.Errorf("%d syncs, want 2", nb.syncs)
		}
		ch := c.Chart()
		if len(ch.Series) != 2 || !slices.Equal(ch.Series[0].Y, []float64{2, 1.5}) || !slices.Equal(ch.Series[1].X, []float64{1}) {
			t.Errorf("chart = %+v", ch.Series)
		}
		ch.Series[0].Y[0] = 99 // a copy
		if c.Chart().Series[0].Y[0] != 2 {
			t.Errorf("Chart shares its slices")
		}
		// A second chart gets its own output.
		c2 := NewLiveChart(LineChart{})
		c2.Add("x", 0, 0)
		if nb.updates[2][0] == nb.updates[0][0] {
			t.Errorf("two live charts share display id %q", nb.updates[0][0])
		}
	})
	t.Run("notebook: pending render after the interval", func(t *testing.T) {
		nb := fakeNotebook(t, true)
		c := NewLiveChart(LineChart{})
		c.Interval = 20 * time.Millisecond
		c.Add("a", 0, 1)
		c.Add("a", 1, 2)
		deadline := time.Now().Add(5 * time.Second)
		for {
			nb.mu.Lock()
			n := len(nb.updates)
			nb.mu.Unlock()
			if n == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d updates, want 2", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	t.Run("outside: progress lines", func(t *testing.T) {
		nb := fakeNotebook(t, false)
		var out bytes.Buffer
		c := NewLiveChart(LineChart{Title: "Training", XLabel: "step", Series: []Series{{Name: "old", Y: []float64{5}}}})
		c.Out = &out
		c.Interval = time.Hour
		c.Add("loss", 0, 2.5)
		c.Add("loss", 10, 0.123456)
		c.Add("iia", 10, 0.5)
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		want := "Training: old 5 (step 0)  loss 2.5 (step 0)\nTraining: old 5 (step 0)  loss 0.1235 (step 10)  iia 0.5 (step 10)\n"
		if out.String() != want {
			t.Errorf("progress = %q, want %q", out.String(), want)
		}
		if len(nb.updates) != 0 || nb.syncs != 0 {
			t.Errorf("notebook used outside a notebook")
		}
	})
	t.Run("bad points are kept and drawn as gaps", func(t *testing.T) {
		fakeNotebook(t, true)
		c := NewLiveChart(LineChart{})
		c.Add("a", math.NaN(), math.Inf(1))
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		mustParse(t, "SVG", must(c.SVG()))
	})
}

func TestReport(t *testing.T) {
	hm := &HeatMap{Title: "trace", Values: [][]float64{{1, 2}}}
	r := NewReport("Causal <tracing>").
		Heading("Setup").
		Paragraph("prompt: \"The Eiffel Tower\" & <more>").
		Preformatted(" Paris  0.43\n Rome   0.02").
		Add(hm, &ProbTable{Tokens: nastyProbs()})
	if r.Len() != 5 {
		t.Errorf("Len = %d", r.Len())
	}
	page, err := Page(r)
	if err != nil {
		t.Fatal(err)
	}
	root := mustParse(t, "page", page)
	if root.child("head").child("title").text != "Causal <tracing>" {
		t.Errorf("page title = %q", root.child("head").child("title").text)
	}
	for _, w := range []string{"Causal <tracing>", "Setup", `prompt: "The Eiffel Tower" & <more>`, " Paris  0.43\n Rome   0.02"} {
		if !root.hasText(w) {
			t.Errorf("report lacks %q", w)
		}
	}
	if len(root.all("svg")) != 1 || len(root.all("table")) != 1 {
		t.Errorf("report holds %d svg and %d tables", len(root.all("svg")), len(root.all("table")))
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := WriteFile(r, path); err != nil {
		t.Fatal(err)
	}
	if string(mustRead(t, path)) != page {
		t.Errorf("written report differs from Page")
	}
	// A failing item fails the report, naming the item.
	bad := NewReport("r").Paragraph("x").Add(&HeatMap{})
	if _, err := bad.HTML(); err == nil || !strings.Contains(err.Error(), "Report block 1 (*plots.HeatMap): plots: HeatMap.Values: empty") {
		t.Errorf("bad report error = %v", err)
	}
	if _, err := NewReport("r").Add(nil).HTML(); err == nil || !strings.Contains(err.Error(), "Report block 0: nil") {
		t.Errorf("nil item error = %v", err)
	}
}

func TestColormap(t *testing.T) {
	for _, tc := range []struct {
		c    *Colormap
		t    float64
		want string
	}{
		{Viridis, 0, "#440154"}, {Viridis, 1, "#fde725"}, {Viridis, 2, "#fde725"}, {Viridis, -1, "#440154"}, {Viridis, math.NaN(), "#440154"},
		{Purples, 0, "#fcfbfd"}, {BlueRed, 0.5, "#f7f7f7"},
	} {
		if got := tc.c.Color(tc.t); got != tc.want {
			t.Errorf("%s(%v) = %s, want %s", tc.c.Name(), tc.t, got, tc.want)
		}
	}
	if _, err := NewColormap("x", false, "#000000"); err == nil {
		t.Errorf("one color accepted")
	}
	if _, err := NewColormap("x", false, "#000000", "red"); err == nil || !strings.Contains(err.Error(), "colors[1]") {
		t.Errorf("bad color error = %v", err)
	}
	c, err := NewColormap("bw", false, "#000000", "#ffffff")
	if err != nil || c.Color(0.5) != "#808080" {
		t.Errorf("bw(0.5) = %s, %v", c.Color(0.5), err)
	}
}

func TestLineChartDecimates(t *testing.T) {
	y := make([]float64, 10000)
	for i := range y {
		y[i] = float64(i % 7)
	}
	y[5000] = 100 // a spike survives
	seg := Series{Y: y}.segments(false)
	if len(seg) != 1 || len(seg[0]) > maxPoints+2 || len(seg[0]) < maxPoints/2 {
		t.Fatalf("decimated to %d segments, %d points", len(seg), len(seg[0]))
	}
	first, last := seg[0][0], seg[0][len(seg[0])-1]
	if first.X != 0 || last.X != 9999 {
		t.Errorf("first/last x = %v, %v", first.X, last.X)
	}
	spike := false
	for i, p := range seg[0] {
		spike = spike || p.Y == 100
		if i > 0 && p.X <= seg[0][i-1].X {
			t.Fatalf("points out of order at %d", i)
		}
	}
	if !spike {
		t.Errorf("spike lost")
	}
}

func TestTextTable(t *testing.T) {
	tt := &TextTable{Title: "steering", Header: []string{"prompt", "steered"}, Rows: [][]string{{"Today I feel", " <happy> & glad"}}}
	h, err := tt.HTML()
	if err != nil {
		t.Fatal(err)
	}
	root := mustParse(t, "HTML", h)
	if !strings.Contains(h, "&lt;happy&gt; &amp; glad") || len(root.all("th")) != 2 || root.all("th")[1].text != "steered" {
		t.Errorf("table HTML lacks its escaped cells or header: %s", h)
	}
	if _, err := (&TextTable{Header: []string{"a"}, Rows: [][]string{{"x", "y"}}}).HTML(); err == nil || !strings.Contains(err.Error(), "TextTable.Rows[0]") {
		t.Errorf("mismatched row: %v", err)
	}
}
