package plots

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/govene/govene"
)

// LogitLens draws a logit lens: a grid of layers (rows) x prompt positions
// (columns), each cell colored by the target token's probability (or rank)
// when that layer's residual stream at that position is read out through
// the final norm and the unembedding. Each cell's tooltip lists the target's
// value and the top tokens there with their probabilities; ShowTop writes
// the top token in the cell, as nostalgebraist's logit lens figures do.
type LogitLens struct {
	// Title is drawn at the top.
	Title string
	// Layers label the rows, e.g. "embed", "0", ..., "7" (the residual
	// stream read out after each block); nil labels them 0, 1, ...;
	// otherwise one per row of Values.
	Layers []string
	// Tokens label the columns: the prompt's tokens, one per column of
	// Values (required).
	Tokens []string
	// Target is the token whose probability or rank Values holds, e.g.
	// " Mary"; it names the color scale.
	Target string
	// Values[l][p] is the target's probability at layer l and position p,
	// or its rank (0 = the top token) when Rank is set.
	Values [][]float64
	// Rank says Values are ranks (0, 1, 2, ...): cells are colored by
	// log10(1 + rank) with the colormap reversed, so that rank 0 is the
	// darkest; negative ranks are an error.
	Rank bool
	// Top, when not nil, holds the top tokens at each layer and position,
	// Top[l][p] (best first, e.g. from govene.TopK or lm.TopK), listed in the cell's
	// tooltip; it has the shape of Values (a cell's list may be empty).
	Top [][][]govene.TokenProb
	// ShowTop writes each cell's top token (Top[l][p][0]) in the cell; it
	// needs Top.
	ShowTop bool
	// Min and Max fix the color scale (for Rank, in log10(1 + rank)); nil
	// takes 0 and 1 for probabilities and the data's range for ranks.
	Min, Max *float64
	// Colormap colors the values (default Purples).
	Colormap *Colormap
	// CellWidth and CellHeight are a cell's size in pixels (default 56,
	// or 72 with ShowTop, by 24).
	CellWidth, CellHeight float64
}

func (l *LogitLens) title() string { return l.Title }

// lensTopShown is how many top tokens a cell's tooltip lists at most.
const lensTopShown = 10

// reversed returns c with its colors in the opposite order.
func reversed(c *Colormap) *Colormap {
	r := &Colormap{name: c.name + "_r", diverging: c.diverging, stops: make([][3]uint8, len(c.stops))}
	for i, s := range c.stops {
		r.stops[len(c.stops)-1-i] = s
	}
	return r
}

func (l *LogitLens) check() error {
	if l == nil {
		return errors.New("plots: LogitLens: nil")
	}
	if len(l.Tokens) == 0 {
		return errors.New("plots: LogitLens.Tokens: empty")
	}
	if err := checkGrid("LogitLens.Values", l.Values, l.Layers, l.Tokens, "LogitLens.Layers", "LogitLens.Tokens"); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	if l.Top != nil {
		if len(l.Top) != len(l.Values) {
			return fmt.Errorf("plots: LogitLens.Top: %d layers, but LogitLens.Values has %d", len(l.Top), len(l.Values))
		}
		for i, row := range l.Top {
			if len(row) != len(l.Tokens) {
				return fmt.Errorf("plots: LogitLens.Top[%d]: %d positions, but LogitLens.Tokens has %d", i, len(row), len(l.Tokens))
			}
		}
	} else if l.ShowTop {
		return errors.New("plots: LogitLens.ShowTop: needs LogitLens.Top")
	}
	if l.Rank {
		for i, row := range l.Values {
			for j, v := range row {
				if v < 0 {
					return fmt.Errorf("plots: LogitLens.Values[%d][%d]: rank %s: want 0 (the top token) or more", i, j, exact(v))
				}
			}
		}
	}
	return nil
}

// lensTip is cell (i, j)'s tooltip: where, the target's value, the top
// tokens.
func (l *LogitLens) lensTip(rows []string, i, j int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "layer %s, position %d %q: ", visible(rows[i]), j, visible(l.Tokens[j]))
	what := "P"
	if l.Rank {
		what = "rank"
	}
	v := l.Values[i][j]
	val := exact(v)
	if !l.Rank {
		val = pct(v)
	}
	if l.Target != "" {
		fmt.Fprintf(&b, "%s(%s) = %s", what, visible(l.Target), val)
	} else {
		fmt.Fprintf(&b, "%s = %s", what, val)
	}
	if l.Top != nil {
		top := l.Top[i][j]
		for k, t := range top[:min(len(top), lensTopShown)] {
			if k == 0 {
				b.WriteString("\ntop:")
			}
			fmt.Fprintf(&b, "\n%q %s", visible(t.Token), pct(float64(t.Prob)))
		}
	}
	return b.String()
}

func (l *LogitLens) grid() (*gridPlot, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	rows := indexLabels(l.Layers, len(l.Values))
	vals, lo, hi, cmap := l.Values, l.Min, l.Max, l.Colormap
	if cmap == nil {
		cmap = Purples
	}
	label := "probability"
	if l.Rank {
		label = "log10(1 + rank)"
		cmap = reversed(cmap)
		vals = make([][]float64, len(l.Values))
		for i, row := range l.Values {
			vals[i] = make([]float64, len(row))
			for j, v := range row {
				vals[i][j] = math.Log10(1 + v)
			}
		}
	} else if lo == nil && hi == nil {
		lo, hi = Float(0), Float(1)
	}
	if l.Target != "" {
		label += " of " + visible(l.Target)
	}
	sc, err := makeScale(vals, nil, lo, hi, cmap, "LogitLens", nil)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	defW := 56.0
	if l.ShowTop {
		defW = 72
	}
	cw, ch, err := cellSize("LogitLens", l.CellWidth, l.CellHeight, defW, 24)
	if err != nil {
		return nil, err
	}
	p := panel{
		vals: vals, showRowLabs: true, showColLabs: true,
		tip: func(i, j int) string { return l.lensTip(rows, i, j) },
	}
	if l.ShowTop {
		fit := max(1, int((cw-4)/(math.Min(10, ch*0.5)*0.62)))
		p.text = func(i, j int) string {
			if top := l.Top[i][j]; len(top) > 0 {
				return truncate(visible(top[0].Token), fit)
			}
			return ""
		}
	}
	return &gridPlot{
		title: l.Title, rows: rows, cols: l.Tokens, columns: 1, cw: cw, ch: ch, maxLabel: 24,
		scale: sc, colorLabel: label, rowTitle: "layer", colTitle: "position",
		panels: []panel{p},
	}, nil
}

// SVG renders the lens: cells colored by the target's probability or
// rank, each with a tooltip holding the exact value and the top tokens,
// the top token written in each cell with ShowTop, layer and token labels,
// and the color scale. It returns an error naming the field for a nil
// lens, empty Tokens or Values, labels or Top not matching Values, ShowTop
// without Top, a negative rank, Min above Max, or a bad cell size.
func (l *LogitLens) SVG() (string, error) { return gridSVG(l.grid) }

// HTML returns the SVG in an HTML fragment, or SVG's error.
func (l *LogitLens) HTML() (string, error) { return svgHTML("govene-logitlens", l.SVG) }
