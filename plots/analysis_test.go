package plots

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/govene/govene"
)

// nastyLens is a 3-layer logit lens over the nasty tokens, with top tokens.
func nastyLens() *LogitLens {
	n := len(nasty)
	vals := make([][]float64, 3)
	top := make([][][]govene.TokenProb, 3)
	for l := range vals {
		vals[l] = make([]float64, n)
		top[l] = make([][]govene.TokenProb, n)
		for p := range n {
			vals[l][p] = float64(l*n+p) / float64(3*n)
			top[l][p] = []govene.TokenProb{{ID: 1, Token: nasty[(l+p)%n], Prob: 0.5}, {ID: 2, Token: " Mary", Prob: 0.25}}
		}
	}
	top[2][0] = nil // a cell with no top tokens
	return &LogitLens{Title: "lens <1>", Layers: []string{"embed", "0", "1"}, Tokens: nasty, Target: " Mary", Values: vals, Top: top}
}

// legendTips returns the tooltips of the texts of the color legend.
func legendTips(root *node) []string {
	for _, g := range root.all("g") {
		if g.attr["class"] == "legend" {
			return g.tips("text")
		}
	}
	return nil
}

// cellTexts returns the texts written in cells (not reacting to the
// pointer, so that the cell's tooltip shows).
func cellTexts(root *node) []string {
	var out []string
	for _, t := range root.all("text") {
		if t.attr["pointer-events"] == "none" {
			out = append(out, t.text)
		}
	}
	return out
}

func TestLogitLens(t *testing.T) {
	withTop := nastyLens()
	withTop.ShowTop = true
	rank := &LogitLens{Tokens: []string{"a", "b"}, Values: [][]float64{{99, 9}, {0, math.NaN()}}, Rank: true, Target: " x"}
	for _, tc := range []struct {
		name      string
		l         *LogitLens
		cells     int
		tip       [2]int // a cell whose tooltip is checked
		tipWant   []string
		min, max  string
		texts     []string // the first texts written in cells
		darkest   [2]int   // a cell with the colormap's darkest color; {-1} none
		nanColors int
	}{
		{"probabilities", nastyLens(), 18, [2]int{1, 2}, []string{`layer 0, position 2 " Paris": P( Mary) = 44.44%`, "top:", `"\\xe2\\x80" 50.00%`, `" Mary" 25.00%`}, "0", "1", nil, [2]int{-1}, 0},
		{"no top tokens in a cell", nastyLens(), 18, [2]int{2, 0}, []string{`layer 1, position 0 "<|endoftext|>": P( Mary) = 66.67%`}, "0", "1", nil, [2]int{-1}, 0},
		{"top tokens written", withTop, 18, [2]int{0, 0}, []string{"top:"}, "0", "1", []string{"<|endofte…", `"&"`, " Paris", `\xe2\x80`, `a\nb`, "it's", `"&"`}, [2]int{-1}, 0},
		{"ranks", rank, 4, [2]int{0, 1}, []string{`layer 0, position 1 "b": rank( x) = 9`}, "0", "2", nil, [2]int{1, 0}, 1},
		{"no target", &LogitLens{Tokens: []string{"a"}, Values: [][]float64{{0.5}}}, 1, [2]int{0, 0}, []string{`layer 0, position 0 "a": P = 50.00%`}, "0", "1", nil, [2]int{-1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := mustParse(t, "SVG", must(tc.l.SVG()))
			fills, tips := cells(root)
			if len(fills) != tc.cells {
				t.Fatalf("%d cells, want %d", len(fills), tc.cells)
			}
			cols := len(tc.l.Tokens)
			tip := tips[tc.tip[0]*cols+tc.tip[1]]
			for _, w := range tc.tipWant {
				if !strings.Contains(tip, w) {
					t.Errorf("cell %v tooltip %q lacks %q", tc.tip, tip, w)
				}
			}
			if tc.name == "no top tokens in a cell" && strings.Contains(tip, "top:") {
				t.Errorf("cell with no top tokens lists some: %q", tip)
			}
			lt := legendTips(root)
			if !slices.Contains(lt, "min "+tc.min) || !slices.Contains(lt, "max "+tc.max) {
				t.Errorf("legend %q, want min %s and max %s", lt, tc.min, tc.max)
			}
			got := cellTexts(root)
			if tc.texts == nil && len(got) != 0 {
				t.Errorf("cells hold texts %q without ShowTop", got)
			}
			if tc.texts != nil && (len(got) != tc.cells || !slices.Equal(got[:len(tc.texts)], tc.texts)) {
				t.Errorf("cell texts %q, want %d starting %q", got, tc.cells, tc.texts)
			}
			if tc.darkest[0] >= 0 {
				if f := fills[tc.darkest[0]*cols+tc.darkest[1]]; f != Purples.Color(1) {
					t.Errorf("cell %v fill %s, want the darkest %s", tc.darkest, f, Purples.Color(1))
				}
			}
			if n := strings.Count(strings.Join(fills, " "), nanColor); n != tc.nanColors {
				t.Errorf("%d nan cells, want %d", n, tc.nanColors)
			}
		})
	}
	// A rank of 99 (worst here) is the lightest color, log10(1 + 99) = 2 at
	// the top of the scale.
	fills, _ := cells(mustParse(t, "SVG", must(rank.SVG())))
	if fills[0] != Purples.Color(0) {
		t.Errorf("rank 99 fill %s, want the lightest %s", fills[0], Purples.Color(0))
	}
}

// barRows reads a Bars chart back: the labels in drawing order, and for
// each bar (rect of class bar) its tooltip, x, width and fill; and the x of
// the zero line (the black vertical line).
type barRect struct {
	tip      string
	x, w     float64
	fill     string
	negative bool
}

func readBars(t *testing.T, svg string) (labels []string, bars []barRect, zero float64) {
	t.Helper()
	root := mustParse(t, "SVG", svg)
	for _, txt := range root.all("text") {
		if txt.attr["xml:space"] == "preserve" {
			labels = append(labels, txt.text)
		}
	}
	f := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("coordinate %q: %v", s, err)
		}
		return v
	}
	for _, r := range root.all("rect") {
		if r.attr["class"] == "bar" {
			bars = append(bars, barRect{tip: r.child("title").text, x: f(r.attr["x"]), w: f(r.attr["width"]), fill: r.attr["fill"]})
		}
	}
	for _, l := range root.all("line") {
		if l.attr["stroke"] == "#000000" {
			zero = f(l.attr["x1"])
		}
	}
	for i := range bars {
		bars[i].negative = bars[i].x+bars[i].w <= zero+0.01 && bars[i].x < zero
	}
	return labels, bars, zero
}

func TestBars(t *testing.T) {
	labels := []string{"L0H0", "L0H1", "L1H0", "L1H1", "<|endoftext|>"}
	vals := []float64{0.5, -2, 1.5, math.NaN(), -0.25}
	for _, tc := range []struct {
		name   string
		b      *Bars
		labels []string
		bars   []string // tooltips of the drawn bars, in order
	}{
		{"in order", &Bars{Labels: labels, Values: vals}, labels, []string{"L0H0: 0.5", "L0H1: -2", "L1H0: 1.5", "<|endoftext|>: -0.25"}},
		{"by value", &Bars{Labels: labels, Values: vals, Order: ByValue}, []string{"L1H0", "L0H0", "<|endoftext|>", "L0H1", "L1H1"}, []string{"L1H0: 1.5", "L0H0: 0.5", "<|endoftext|>: -0.25", "L0H1: -2"}},
		{"by magnitude, top 3", &Bars{Labels: labels, Values: vals, Order: ByMagnitude, Limit: 3}, []string{"L0H1", "L1H0", "L0H0"}, []string{"L0H1: -2", "L1H0: 1.5", "L0H0: 0.5"}},
		{"limit above length", &Bars{Values: []float64{3, 1}, Limit: 9}, []string{"0", "1"}, []string{"0: 3", "1: 1"}},
		{"all zero", &Bars{Values: []float64{0, 0}}, []string{"0", "1"}, []string{"0: 0", "1: 0"}},
		{"all nan", &Bars{Values: []float64{math.NaN()}}, []string{"0"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg := must(tc.b.SVG())
			if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
				t.Errorf("SVG holds NaN or Inf coordinates")
			}
			gotLabels, bars, zero := readBars(t, svg)
			if !slices.Equal(gotLabels, tc.labels) {
				t.Errorf("labels %q, want %q", gotLabels, tc.labels)
			}
			var tips []string
			for _, b := range bars {
				tips = append(tips, b.tip)
				v, _ := strconv.ParseFloat(b.tip[strings.LastIndex(b.tip, " ")+1:], 64)
				if (v < 0) != b.negative {
					t.Errorf("bar %q: x %g width %g, zero at %g: on the wrong side", b.tip, b.x, b.w, zero)
				}
				wantFill := BlueRed.Color(0.85)
				if v < 0 {
					wantFill = BlueRed.Color(0.15)
				}
				if b.fill != wantFill {
					t.Errorf("bar %q fill %s, want %s", b.tip, b.fill, wantFill)
				}
			}
			if !slices.Equal(tips, tc.bars) {
				t.Errorf("bars %q, want %q", tips, tc.bars)
			}
		})
	}
	// Bar lengths are proportional to the values.
	_, bars, _ := readBars(t, must((&Bars{Values: []float64{1, -2, 4}}).SVG()))
	if r := bars[2].w / bars[0].w; math.Abs(r-4) > 0.05 {
		t.Errorf("bar of 4 is %.3g times the bar of 1", r)
	}
	if r := bars[1].w / bars[0].w; math.Abs(r-2) > 0.05 {
		t.Errorf("bar of -2 is %.3g times the bar of 1", r)
	}
}

func TestScatter(t *testing.T) {
	x := []float64{0.1, -0.5, 2, math.NaN(), 0.3}
	y := []float64{0.2, -0.4, 1.5, 1, math.Inf(-1)}
	names := []string{"L0H0", "L0H1", "<|endoftext|>", "nan", "inf"}
	for _, tc := range []struct {
		name      string
		s         *Scatter
		title     string
		points    []string // tooltips
		diagonal  bool
		annotated []string
		skipped   bool
	}{
		{"labels and correlation", &Scatter{Title: "agreement", X: x, Y: y, Labels: names, Correlation: Float(0.9512), XLabel: "attribution", YLabel: "exact", Annotate: 2},
			"agreement (r = 0.951)", []string{"L0H0: attribution = 0.1, exact = 0.2", "L0H1: attribution = -0.5, exact = -0.4", "<|endoftext|>: attribution = 2, exact = 1.5"}, true, []string{"<|endoftext|>", "L0H1"}, true},
		{"no labels, no diagonal", &Scatter{X: []float64{1, 2}, Y: []float64{3, 4}, HideDiagonal: true},
			"", []string{"0: x = 1, y = 3", "1: x = 2, y = 4"}, false, nil, false},
		{"correlation alone", &Scatter{X: []float64{1}, Y: []float64{1}, Correlation: Float(math.NaN()), Annotate: 5},
			"r = nan", []string{"0: x = 1, y = 1"}, true, []string{"0"}, false},
		{"all nan", &Scatter{X: []float64{math.NaN()}, Y: []float64{0}}, "", nil, true, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg := must(tc.s.SVG())
			if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
				t.Errorf("SVG holds NaN or Inf coordinates")
			}
			root := mustParse(t, "SVG", svg)
			if got := root.attr["aria-label"]; got != tc.title || (tc.title != "" && !root.hasText(tc.title)) {
				t.Errorf("title %q, want %q drawn", got, tc.title)
			}
			if got := root.tips("circle"); !slices.Equal(got, tc.points) {
				t.Errorf("points %q, want %q", got, tc.points)
			}
			diag := false
			for _, l := range root.all("line") {
				if l.attr["class"] == "diagonal" {
					diag = true
					// y = x: from the bottom left to the top right.
					c := func(k string) float64 { v, _ := strconv.ParseFloat(l.attr[k], 64); return v }
					if w, h := c("x2")-c("x1"), c("y1")-c("y2"); w <= 0 || math.Abs(w-h) > 0.01 {
						t.Errorf("diagonal %v does not rise", l.attr)
					}
				}
			}
			if diag != tc.diagonal {
				t.Errorf("diagonal drawn %v, want %v", diag, tc.diagonal)
			}
			var ann []string
			for _, txt := range root.all("text") {
				if txt.attr["xml:space"] == "preserve" {
					ann = append(ann, txt.text)
				}
			}
			slices.Sort(ann)
			want := slices.Clone(tc.annotated)
			slices.Sort(want)
			if !slices.Equal(ann, want) {
				t.Errorf("annotated %q, want %q", ann, want)
			}
			note := false
			for _, s := range root.texts() {
				note = note || strings.Contains(s, "with nan or inf not drawn")
			}
			if note != tc.skipped {
				t.Errorf("note on skipped points %v, want %v", note, tc.skipped)
			}
		})
	}
}
