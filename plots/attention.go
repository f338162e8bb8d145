package plots

import (
	"errors"
	"fmt"
	"math"
)

// AttentionPattern is one attention head's weights as a query x key heat map
// labelled with the prompt's tokens. A causal model's pattern is lower
// triangular: cells above the diagonal are left out unless Full is set.
type AttentionPattern struct {
	// Title is drawn at the top (with Head after it).
	Title string
	// Tokens label both the queries (rows) and the keys (columns).
	Tokens []string
	// Weights[q][k] is query q's attention to key k: len(Tokens) rows of
	// len(Tokens) values.
	Weights [][]float64
	// Head names the head, e.g. "L5H1".
	Head string
	// Full draws the cells above the diagonal too (non-causal attention).
	Full bool
	// Min and Max fix the color scale (default 0 and 1).
	Min, Max *float64
	// Colormap colors the weights (default Blues).
	Colormap *Colormap
	// CellSize is a cell's width and height in pixels (default 22).
	CellSize float64
}

func (a *AttentionPattern) title() string {
	switch {
	case a.Head == "":
		return a.Title
	case a.Title == "":
		return a.Head
	}
	return a.Title + " — " + a.Head
}

// checkSquare checks that w is a len(tokens) x len(tokens) matrix.
func checkSquare(field string, w [][]float64, tokens []string, tokensName string) error {
	if len(tokens) == 0 {
		return fmt.Errorf("%s: empty", tokensName)
	}
	if len(w) != len(tokens) {
		return fmt.Errorf("%s: %d query rows, but %s has %d", field, len(w), tokensName, len(tokens))
	}
	for q, row := range w {
		if len(row) != len(tokens) {
			return fmt.Errorf("%s[%d]: %d keys, but %s has %d", field, q, len(row), tokensName, len(tokens))
		}
	}
	return nil
}

func unitScale(minp, maxp *float64) (lo, hi *float64) {
	if minp == nil && maxp == nil {
		return Float(0), Float(1)
	}
	return minp, maxp
}

func causalMask(full bool) func(q, k int) bool {
	if full {
		return nil
	}
	return func(q, k int) bool { return k > q }
}

func attentionTip(head string, tokens []string, w [][]float64) func(q, k int) string {
	return func(q, k int) string {
		s := fmt.Sprintf("query %d \"%s\" → key %d \"%s\": %s", q, visible(tokens[q]), k, visible(tokens[k]), exact(w[q][k]))
		if head != "" {
			s = oneLine(head) + ": " + s
		}
		return s
	}
}

func (a *AttentionPattern) grid() (*gridPlot, error) {
	if a == nil {
		return nil, errors.New("plots: AttentionPattern: nil")
	}
	if err := checkSquare("AttentionPattern.Weights", a.Weights, a.Tokens, "AttentionPattern.Tokens"); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	cs, err := checkCell("AttentionPattern.CellSize", a.CellSize, 22)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	lo, hi := unitScale(a.Min, a.Max)
	mask := causalMask(a.Full)
	sc, err := makeScale(a.Weights, mask, lo, hi, a.Colormap, "AttentionPattern", Blues)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	return &gridPlot{
		title: a.title(), rows: a.Tokens, cols: a.Tokens, columns: 1, cw: cs, ch: cs, maxLabel: 20,
		scale: sc, colorLabel: "attention weight",
		panels: []panel{{
			vals: a.Weights, hidden: mask, showRowLabs: true, showColLabs: true,
			tip: attentionTip(a.Head, a.Tokens, a.Weights),
		}},
	}, nil
}

// SVG renders the pattern: queries down, keys across, a tooltip with the
// query, key and exact weight on every cell, and the color scale.
func (a *AttentionPattern) SVG() (string, error) { return gridSVG(a.grid) }

// HTML returns the SVG in an HTML fragment.
func (a *AttentionPattern) HTML() (string, error) { return svgHTML("govene-attention", a.SVG) }

// AttentionHeads draws several heads' patterns over the same tokens as small
// multiples: a grid of small query x key maps sharing one color scale, with
// token labels on the outer panels and tooltips on every cell.
type AttentionHeads struct {
	// Title is drawn at the top.
	Title string
	// Tokens label the queries and keys of every head.
	Tokens []string
	// Heads names the heads (nil: "head 0", "head 1", ...); when not nil it
	// has one name per head.
	Heads []string
	// Weights[h][q][k] is head h's query q attention to key k, laid out as
	// pv's and GPT-2's attention_weight sites are (batch item removed).
	Weights [][][]float64
	// Columns is the number of panels per row (default 4).
	Columns int
	// Full draws the cells above the diagonal too.
	Full bool
	// Min and Max fix the color scale (default 0 and 1).
	Min, Max *float64
	// Colormap colors the weights (default Blues).
	Colormap *Colormap
	// CellSize is a cell's size in pixels (default: from 6 to 16, smaller
	// for more tokens).
	CellSize float64
}

func (a *AttentionHeads) title() string { return a.Title }

func (a *AttentionHeads) grid() (*gridPlot, error) {
	if a == nil {
		return nil, errors.New("plots: AttentionHeads: nil")
	}
	if len(a.Weights) == 0 {
		return nil, errors.New("plots: AttentionHeads.Weights: empty")
	}
	if a.Heads != nil && len(a.Heads) != len(a.Weights) {
		return nil, fmt.Errorf("plots: AttentionHeads.Heads: %d names, but AttentionHeads.Weights has %d heads", len(a.Heads), len(a.Weights))
	}
	if a.Columns < 0 {
		return nil, fmt.Errorf("plots: AttentionHeads.Columns: %d: want 0 (default) or more", a.Columns)
	}
	for h, w := range a.Weights {
		if err := checkSquare(fmt.Sprintf("AttentionHeads.Weights[%d]", h), w, a.Tokens, "AttentionHeads.Tokens"); err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
	}
	cs, err := checkCell("AttentionHeads.CellSize", a.CellSize, math.Max(6, math.Min(16, 180/float64(len(a.Tokens)))))
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	columns := a.Columns
	if columns == 0 {
		columns = 4
	}
	columns = min(columns, len(a.Weights))
	mask := causalMask(a.Full)
	var all [][]float64
	for _, w := range a.Weights {
		all = append(all, w...)
	}
	var allMask func(i, j int) bool
	if mask != nil {
		n := len(a.Tokens)
		allMask = func(i, j int) bool { return mask(i%n, j) }
	}
	lo, hi := unitScale(a.Min, a.Max)
	sc, err := makeScale(all, allMask, lo, hi, a.Colormap, "AttentionHeads", Blues)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	g := &gridPlot{
		title: a.Title, rows: a.Tokens, cols: a.Tokens, columns: columns, cw: cs, ch: cs, maxLabel: 10,
		scale: sc, colorLabel: "attention weight",
	}
	for h, w := range a.Weights {
		name := fmt.Sprintf("head %d", h)
		if a.Heads != nil {
			name = a.Heads[h]
		}
		g.panels = append(g.panels, panel{
			name: oneLine(name), vals: w, hidden: mask,
			showRowLabs: h%columns == 0,
			showColLabs: h+columns >= len(a.Weights),
			tip:         attentionTip(name, a.Tokens, w),
		})
	}
	return g, nil
}

// SVG renders the grid of heads.
func (a *AttentionHeads) SVG() (string, error) { return gridSVG(a.grid) }

// HTML returns the SVG in an HTML fragment.
func (a *AttentionHeads) HTML() (string, error) { return svgHTML("govene-attention-heads", a.SVG) }
