package plots

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/govene/govene/lm"
)

// imgSVG returns the SVG of the one <img> in a notebook HTML output,
// parsed, failing the test unless there is exactly one with an SVG data
// URI.
func imgSVG(t *testing.T, h string) *node {
	t.Helper()
	root := mustParse(t, "notebook HTML", h)
	imgs := root.all("img")
	if len(imgs) != 1 {
		t.Fatalf("notebook HTML has %d <img>, want 1: %s", len(imgs), head(h, 200))
	}
	const prefix = "data:image/svg+xml;base64,"
	src := imgs[0].attr["src"]
	if !strings.HasPrefix(src, prefix) {
		t.Fatalf("img src = %q, want a %s URI", head(src, 60), prefix)
	}
	doc, err := base64.StdEncoding.DecodeString(src[len(prefix):])
	if err != nil {
		t.Fatalf("img src: %v", err)
	}
	svg := mustParse(t, "img SVG", string(doc))
	if svg.name != "svg" || svg.attr["width"] != imgs[0].attr["width"] || svg.attr["height"] != imgs[0].attr["height"] {
		t.Fatalf("img %sx%s of <%s> %sx%s: want the SVG's size", imgs[0].attr["width"], imgs[0].attr["height"], svg.name, svg.attr["width"], svg.attr["height"])
	}
	return svg
}

// What JupyterLab's sanitiser keeps in an untrusted notebook, of what this
// package writes: these elements, and these attributes (style with the
// properties below). Everything else (svg, style, script) it drops.
var (
	sanitiserTags  = map[string]bool{"div": true, "table": true, "caption": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "code": true, "span": true, "img": true, "h1": true, "h2": true, "p": true, "pre": true}
	sanitiserAttrs = map[string]bool{"class": true, "style": true, "title": true}
	imgAttrs       = map[string]bool{"src": true, "width": true, "height": true, "alt": true}
	cssProps       = map[string]bool{"border-collapse": true, "margin": true, "font-size": true, "font-weight": true, "text-align": true, "padding": true, "border-bottom": true, "white-space": true, "font-family": true, "background-color": true, "color": true, "display": true, "width": true, "height": true, "vertical-align": true}
)

// untrustedProblems lists what of n an untrusted notebook would drop.
func untrustedProblems(n *node) []string {
	var out []string
	if !sanitiserTags[n.name] {
		out = append(out, "<"+n.name+">")
	}
	for a, v := range n.attr {
		switch {
		case n.name == "img" && imgAttrs[a]:
		case sanitiserAttrs[a]:
			if a == "style" {
				for _, decl := range strings.Split(v, ";") {
					prop, _, _ := strings.Cut(decl, ":")
					if !cssProps[strings.TrimSpace(prop)] {
						out = append(out, "<"+n.name+" style="+decl+">")
					}
				}
			}
		default:
			out = append(out, "<"+n.name+" "+a+">")
		}
	}
	for _, c := range n.children {
		out = append(out, untrustedProblems(c)...)
	}
	return out
}

func TestNotebookBundle(t *testing.T) {
	rs := renderers()
	rs = append(rs, struct {
		name string
		r    Renderer
		want []string
	}{"TextTable", &TextTable{Title: "t", Header: []string{"a", "b"}, Rows: [][]string{{"x <y>", " z"}}}, []string{"x &lt;y&gt;"}},
		struct {
			name string
			r    Renderer
			want []string
		}{"Report", NewReport("rep").Paragraph("text").Add(nastyHeat(), &ProbTable{Tokens: nastyProbs()}), []string{"rep", "text"}})
	for _, tc := range rs {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NotebookBundle(tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != 2 || b[MIMEHTML] == "" || b[MIMEPlain] == "" {
				t.Fatalf("bundle has %d MIME types (%v), want text/html and text/plain", len(b), keys(b))
			}
			root := mustParse(t, "notebook HTML", b[MIMEHTML])
			if p := untrustedProblems(root); len(p) > 0 {
				t.Errorf("an untrusted notebook drops %q", p)
			}
			_, table := tc.r.(Texter)
			switch {
			case table:
				if len(root.all("img")) != 0 || len(root.all("table")) != 1 {
					t.Errorf("a table shows as %d tables and %d images", len(root.all("table")), len(root.all("img")))
				}
			case tc.name == "Report":
				if len(root.all("img")) != 1 || len(root.all("table")) != 1 || !strings.Contains(b[MIMEPlain], "[HeatMap ") {
					t.Errorf("report shows %d images and %d tables; text %q", len(root.all("img")), len(root.all("table")), b[MIMEPlain])
				}
			default:
				svg := imgSVG(t, b[MIMEHTML])
				title := tc.r.(titler).title()
				if alt := root.all("img")[0].attr["alt"]; alt != oneLine(title) {
					t.Errorf("img alt = %q, want the title %q", alt, title)
				}
				if !strings.Contains(b[MIMEPlain], svg.attr["width"]+" x "+svg.attr["height"]+" px SVG image") || !strings.HasPrefix(b[MIMEPlain], tc.name) {
					t.Errorf("text/plain = %q, want the kind, title and size", b[MIMEPlain])
				}
			}
			for _, w := range tc.want {
				if table || tc.name == "Report" {
					if !strings.Contains(b[MIMEHTML], w) {
						t.Errorf("notebook HTML lacks %q", w)
					}
				}
			}
		})
	}
	if _, err := NotebookBundle(nil); err == nil || err.Error() != "plots: NotebookBundle: nil Renderer" {
		t.Errorf("NotebookBundle(nil) = %v", err)
	}
	if _, err := NotebookBundle(&HeatMap{}); err == nil || err.Error() != "plots: HeatMap.Values: empty" {
		t.Errorf("NotebookBundle(empty heat map) = %v", err)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestComparisonHeadersAligned checks that every heading of a comparison
// stands over its own column: in the HTML table (one th per td, the
// probability headings over the probabilities), in the text form (a
// heading ends where its right-aligned values end) and in the SVG.
func TestComparisonHeadersAligned(t *testing.T) {
	c := &Comparison{Title: "t", Options: CompareOptions{BeforeLabel: "clean", AfterLabel: "patched"}, Rows: []ComparisonRow{
		{ID: 6342, Token: " Paris", Before: 0.998, After: 0.0001, HasBefore: true, HasAfter: true},
		{ID: 10598, Token: " Rome", Before: 0.001, After: 0.95, HasBefore: true, HasAfter: true, Extra: true},
	}}
	t.Run("HTML", func(t *testing.T) {
		root := mustParse(t, "HTML", must(c.HTML()))
		ths := root.child("table").child("thead").child("tr").all("th")
		var heads []string
		for _, th := range ths {
			if th.attr["colspan"] != "" {
				t.Errorf("th %q spans %s columns: every heading over one column", th.text, th.attr["colspan"])
			}
			heads = append(heads, th.text)
		}
		for i, tr := range root.child("table").child("tbody").all("tr") {
			tds := tr.all("td")
			if len(tds) != len(ths) {
				t.Fatalf("row %d has %d cells under %d headings", i, len(tds), len(ths))
			}
			r := c.Rows[i]
			col := func(h string) *node { return tds[indexOf(heads, h)] }
			if got := col("clean").text; got != pct(float64(r.Before)) {
				t.Errorf("row %d: under \"clean\": %q, want the clean probability %q", i, got, pct(float64(r.Before)))
			}
			if got := col("patched").text; got != pct(float64(r.After)) {
				t.Errorf("row %d: under \"patched\": %q, want the patched probability %q", i, got, pct(float64(r.After)))
			}
			if !strings.HasSuffix(ths[indexOf(heads, "clean")].attr["style"], "text-align:right") || !strings.HasSuffix(col("clean").attr["style"], "text-align:right") {
				t.Errorf("row %d: \"clean\" and its values are not both right-aligned", i)
			}
			if len(tds[indexOf(heads, "clean")+1].all("span")) != 1 || heads[indexOf(heads, "clean")+1] != "" {
				t.Errorf("row %d: the bar is not in the unheaded column after the clean probability", i)
			}
		}
	})
	t.Run("text", func(t *testing.T) {
		txt := must(c.Text())
		lines := strings.Split(txt, "\n")
		if len(lines) != 5 || lines[0] != "t" || strings.Trim(lines[2], "-") != "" {
			t.Fatalf("text table =\n%s\nwant title, heading, rule and 2 rows", txt)
		}
		for _, h := range []struct {
			head string
			vals []string
		}{{"clean", []string{"99.80%", "0.10%"}}, {"patched", []string{"0.01%", "95.00%"}}, {"id", []string{"6342", "10598"}}} {
			end := runeIndex(lines[1], h.head) + runeWidth(h.head)
			for i, v := range h.vals {
				row := lines[3+i]
				if got := runeIndex(row, v) + runeWidth(v); got != end || runeIndex(row, v) < 0 {
					t.Errorf("row %d: %q ends at column %d, its heading %q at %d:\n%s\n%s", i, v, got, h.head, end, lines[1], row)
				}
			}
		}
		if want := "\" Paris\"   6342  99.80%  ██████████    0.01%              −99.79"; lines[3] != want {
			t.Errorf("row 0 = %q, want %q", lines[3], want)
		}
	})
	t.Run("SVG", func(t *testing.T) {
		root := mustParse(t, "SVG", must(c.SVG()))
		x := map[string]string{}
		for _, tx := range root.all("text") {
			if tx.text == "clean" || tx.text == "patched" || tx.text == "99.80%" || tx.text == "0.01%" {
				x[tx.text] = tx.attr["x"] + " " + tx.attr["text-anchor"]
			}
		}
		if x["clean"] != x["99.80%"] || x["patched"] != x["0.01%"] || x["clean"] == x["patched"] {
			t.Errorf("SVG heading/value x and anchors = %v: want each heading at its values' x", x)
		}
	})
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// runeIndex is strings.Index in runes, -1 when absent.
func runeIndex(s, sub string) int {
	i := strings.Index(s, sub)
	if i < 0 {
		return -1
	}
	return runeWidth(s[:i])
}

func TestTextForms(t *testing.T) {
	tt := &TextTable{Title: "steering", Header: []string{"prompt", "steered"}, Rows: [][]string{{"Today I feel", " great\n"}, {"x", "y"}}}
	want := "steering\n" +
		"prompt          steered\n" +
		"--------------------------\n" +
		"\"Today I feel\"  \" great\\n\"\n" +
		"\"x\"             \"y\""
	if got := must(tt.Text()); got != want {
		t.Errorf("TextTable.Text =\n%s\nwant\n%s", got, want)
	}
	pt := &ProbTable{Tokens: []lm.TokenProb{{ID: 7, Token: " a", Prob: 0.5}, {ID: 12, Token: "", Prob: 0.0625}}}
	want = "#  token  id    prob\n" +
		"--------------------------------\n" +
		"1  \" a\"    7  50.00%  ██████████\n" +
		"2  #12    12   6.25%  █▎"
	if got := must(pt.Text()); got != want {
		t.Errorf("ProbTable.Text =\n%s\nwant\n%s", got, want)
	}
	for _, tc := range []struct {
		r    Texter
		want string
	}{
		{&TextTable{}, "plots: TextTable.Header: empty"},
		{&ProbTable{}, "plots: ProbTable.Tokens: empty"},
		{&Comparison{}, "plots: Comparison.Rows: empty"},
	} {
		if _, err := tc.r.Text(); err == nil || err.Error() != tc.want {
			t.Errorf("%T.Text() = %v, want %q", tc.r, err, tc.want)
		}
	}
}

// TestHeatMapTransposeTitlesAndMarks checks a causal-trace style heat map:
// Transpose puts Cols (tokens) down and Rows (layers) across with each
// value in its place, the axis titles are drawn, the marks are on the
// color bar at their values, and the default size is readable.
func TestHeatMapTransposeTitlesAndMarks(t *testing.T) {
	layers := []string{"0", "1", "2", "3"}
	tokens := []string{"The", " Space*", " Need*", "le*", " is", " in", " downtown"}
	vals := make([][]float64, len(layers))
	for l := range vals {
		vals[l] = make([]float64, len(tokens))
		for p := range vals[l] {
			vals[l][p] = float64(10*l+p) / 100
		}
	}
	h := &HeatMap{Title: "restoring block_output", Rows: layers, Cols: tokens, Values: vals, RowTitle: "layer", ColTitle: "token",
		Transpose: true, Min: Float(0), Max: Float(1), Highlight: [][2]int{{2, 5}},
		Marks: []Mark{{Label: "corrupted", Value: 0.02}, {Label: "clean", Value: 0.9}, {Label: "high", Value: 3}}}
	root := mustParse(t, "SVG", must(h.SVG()))
	_, tips := cells(root)
	if len(tips) != len(layers)*len(tokens) {
		t.Fatalf("%d cells, want %d", len(tips), len(layers)*len(tokens))
	}
	// Cells are drawn row by row: drawn row p is token p, drawn column l is
	// layer l, holding Values[l][p]; the tooltip names the layer first.
	var rects []*node
	for _, r := range root.all("rect") {
		if r.child("title") != nil {
			rects = append(rects, r)
		}
	}
	for p := range tokens {
		for l := range layers {
			r := rects[p*len(layers)+l]
			if want := visible(layers[l]) + ", " + tokens[p] + ": " + exact(vals[l][p]); r.child("title").text != want {
				t.Errorf("drawn row %d column %d: tooltip %q, want %q", p, l, r.child("title").text, want)
			}
		}
	}
	x0, y0 := rects[0].attr["x"], rects[0].attr["y"]
	if rects[1].attr["y"] != y0 || rects[1].attr["x"] == x0 || rects[len(layers)].attr["x"] != x0 || rects[len(layers)].attr["y"] == y0 {
		t.Errorf("cells not laid out layers across, tokens down")
	}
	// Row labels are the tokens, column labels the layers.
	var rowLabs, colLabs []string
	for _, tx := range root.all("text") {
		switch tx.attr["text-anchor"] {
		case "end":
			if tx.child("title") != nil && slices.Contains(tokens, tx.text) {
				rowLabs = append(rowLabs, tx.text)
			}
		case "middle":
			if slices.Contains(layers, tx.text) && tx.attr["font-family"] != "" {
				colLabs = append(colLabs, tx.text)
			}
		}
	}
	if !slices.Equal(rowLabs, tokens) || !slices.Equal(colLabs, layers) {
		t.Errorf("row labels %q (want the tokens), column labels %q (want the layers)", rowLabs, colLabs)
	}
	// Axis titles: "layer" under the columns, "token" turned along the rows.
	titles := map[string]*node{}
	for _, tx := range root.all("text") {
		if strings.HasPrefix(tx.attr["class"], "axis-title") {
			titles[tx.text] = tx
		}
	}
	if c := titles["layer"]; c == nil || c.attr["class"] != "axis-title col-title" || c.attr["transform"] != "" {
		t.Errorf("no column title \"layer\" under the grid: %v", c)
	}
	if r := titles["token"]; r == nil || r.attr["class"] != "axis-title row-title" || !strings.HasSuffix(r.attr["transform"], "rotate(-90)") {
		t.Errorf("no row title \"token\" turned along the rows: %v", r)
	}
	// Highlight {layer 2, token 5} is drawn at row 5, column 2.
	for _, r := range root.all("rect") {
		if r.attr["stroke"] == "#e31a1c" {
			if cell := rects[5*len(layers)+2]; num(mustFloat(t, cell.attr["x"])+1.25) != r.attr["x"] || num(mustFloat(t, cell.attr["y"])+1.25) != r.attr["y"] {
				t.Errorf("highlight at %s,%s, want on the cell of layer 2, token 5 (%s,%s)", r.attr["x"], r.attr["y"], cell.attr["x"], cell.attr["y"])
			}
		}
	}
	// Marks: a line across the bar at the value, a labelled text beside.
	var outline *node
	marks := map[string]*node{}
	for _, g := range root.all("g") {
		if g.attr["class"] == "legend" {
			for _, r := range g.all("rect") {
				if r.attr["fill"] == "none" {
					outline = r // the bar's outline
				}
			}
		}
		if g.attr["class"] == "mark" {
			marks[g.child("title").text] = g
		}
	}
	if outline == nil {
		t.Fatal("no color bar")
	}
	top, height := mustFloat(t, outline.attr["y"]), mustFloat(t, outline.attr["height"])
	for label, v := range map[string]float64{"corrupted: 0.02": 0.02, "clean: 0.9": 0.9, "high: 3": 1} {
		m := marks[label]
		if m == nil {
			t.Errorf("no mark %q; marks %v", label, marks)
			continue
		}
		if y := mustFloat(t, m.child("line").attr["y1"]); math.Abs(y-(top+height*(1-v))) > 0.01 {
			t.Errorf("mark %q at y %g, want %g", label, y, top+height*(1-v))
		}
	}
	if !root.hasText("corrupted 0.02") || !root.hasText("clean 0.9") || !root.hasText("high 3") {
		t.Errorf("mark labels missing")
	}
	// Readable: cells of 96 x 28 for 4 layers, the image at least 560 wide.
	if w := mustFloat(t, rects[0].attr["width"]); w != 96 || mustFloat(t, rects[0].attr["height"]) != 28 {
		t.Errorf("default cell %s x %s, want 96 x 28", rects[0].attr["width"], rects[0].attr["height"])
	}
	if w := mustFloat(t, root.attr["width"]); w < 560 {
		t.Errorf("heat map %g px wide, want at least 560", w)
	}
	for _, tc := range []struct {
		marks []Mark
		want  string
	}{
		{[]Mark{{"x", math.NaN()}}, `plots: HeatMap.Marks[0] "x": value nan: want a finite number`},
		{[]Mark{{"ok", 1}, {"y", math.Inf(-1)}}, `plots: HeatMap.Marks[1] "y": value -inf: want a finite number`},
	} {
		if _, err := (&HeatMap{Values: vals, Marks: tc.marks}).SVG(); err == nil || err.Error() != tc.want {
			t.Errorf("marks %v: error %v, want %q", tc.marks, err, tc.want)
		}
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

func TestLinearTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string // the labels
	}{
		{0, 190, []string{"0", "50", "100", "150"}},
		{0.03, 3.4, []string{"0.5", "1.0", "1.5", "2.0", "2.5", "3.0"}},
		{-1, 1, []string{"-1.0", "-0.5", "0.0", "0.5", "1.0"}},
		{-0.5, 0.5, []string{"-0.4", "-0.2", "0.0", "0.2", "0.4"}},
		{1e-4, 7e-4, []string{"0.0001", "0.0002", "0.0003", "0.0004", "0.0005", "0.0006", "0.0007"}},
	} {
		var got []string
		prev := math.Inf(-1)
		for _, tk := range (linearTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Value < tc.lo-1e-12 || tk.Value > tc.hi+1e-12 || tk.Value <= prev {
				t.Errorf("[%g, %g]: tick %g out of range or order", tc.lo, tc.hi, tk.Value)
			}
			prev = tk.Value
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("[%g, %g]: labels %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}
