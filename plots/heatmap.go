package plots

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// HeatMap is a grid of colored cells, Values[r][c] for row Rows[r] and
// column Cols[c]: e.g. layers x token positions of an activation patching or
// causal tracing sweep (sweep.Result's Rows, Cols and Values fit as they
// are). NaN and infinite cells are drawn in a neutral gray, with "nan",
// "+inf" or "-inf" in their tooltip.
type HeatMap struct {
	// Title is drawn at the top.
	Title string
	// Rows and Cols label the rows and columns (token strings are shown
	// with control characters and invalid UTF-8 escaped). Nil labels them
	// 0, 1, ...; otherwise their lengths must match Values.
	Rows, Cols []string
	// Values holds one slice per row, all of the same length.
	Values [][]float64
	// ColorLabel names the value next to the color scale.
	ColorLabel string
	// Min and Max fix the color scale; nil takes the data's range.
	Min, Max *float64
	// Highlight outlines the cells {row, column}.
	Highlight [][2]int
	// Colormap colors the values; nil picks Purples, or BlueRed (centered
	// on zero) when the scale reaches below zero.
	Colormap *Colormap
	// ShowValues writes each cell's value in it.
	ShowValues bool
	// CellWidth and CellHeight are a cell's size in pixels. By default a
	// cell is 28 pixels high and as wide as fits 520 pixels for all the
	// columns, but 36 (with ShowValues, 44) to 96 pixels: a grid of 4 to
	// 14 columns is about 520 pixels wide.
	CellWidth, CellHeight float64
	// RowTitle names what the Rows are (e.g. "layer"), ColTitle what the
	// Cols are (e.g. "token"): axis titles drawn along the row labels
	// (turned 90 degrees) and under the column labels. Empty: none.
	RowTitle, ColTitle string
	// Transpose draws the grid turned: Rows (and RowTitle) across as the
	// columns, Cols (and ColTitle) down as the rows, Values[r][c] in drawn
	// row c and column r; Highlight stays {row, column} of Values. A
	// layers x positions sweep (sweep.Result) drawn with Transpose has
	// tokens down and layers across, as ROME's causal-tracing figures do.
	Transpose bool
	// Marks are values marked on the color scale with a line and a label,
	// e.g. a causal trace's corrupted and clean probabilities. A mark
	// outside the scale is drawn at its end with its true value in the
	// label; NaN or infinite values are an error.
	Marks []Mark
}

// Mark is a value marked on a color scale: a line across the color bar at
// Value, with Label and the value beside it.
type Mark struct {
	Label string
	Value float64
}

func (h *HeatMap) title() string { return h.Title }

// Float returns a pointer to v, for HeatMap.Min and Max.
func Float(v float64) *float64 { return &v }

// indexLabels returns labels, or "0", "1", ... when labels is nil.
func indexLabels(labels []string, n int) []string {
	if labels != nil {
		return labels
	}
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// checkGrid checks that vals is a rows x cols matrix.
func checkGrid(field string, vals [][]float64, rows, cols []string, rowsName, colsName string) error {
	if len(vals) == 0 {
		return fmt.Errorf("%s: empty", field)
	}
	if rows != nil && len(rows) != len(vals) {
		return fmt.Errorf("%s: %d rows, but %s has %d labels", field, len(vals), rowsName, len(rows))
	}
	want := len(vals[0])
	wantFrom := field + "[0]"
	if cols != nil {
		want, wantFrom = len(cols), colsName
	}
	if want == 0 {
		return fmt.Errorf("%s: empty", wantFrom)
	}
	for i, row := range vals {
		if len(row) != want {
			return fmt.Errorf("%s[%d]: %d values, but %s has %d", field, i, len(row), wantFrom, want)
		}
	}
	return nil
}

func checkCell(field string, v float64, def float64) (float64, error) {
	if v < 0 || v != v || v > 1e4 {
		return 0, fmt.Errorf("%s: %s: want a size in pixels", field, exact(v))
	}
	if v == 0 {
		return def, nil
	}
	return v, nil
}

// cellSize checks a grid's cell width and height in pixels (fields
// typ.CellWidth and typ.CellHeight), taking defW and defH for zeros.
func cellSize(typ string, w, h, defW, defH float64) (cw, ch float64, err error) {
	if cw, err = checkCell(typ+".CellWidth", w, defW); err != nil {
		return 0, 0, fmt.Errorf("plots: %w", err)
	}
	if ch, err = checkCell(typ+".CellHeight", h, defH); err != nil {
		return 0, 0, fmt.Errorf("plots: %w", err)
	}
	return cw, ch, nil
}

func (h *HeatMap) grid() (*gridPlot, error) {
	if h == nil {
		return nil, errors.New("plots: HeatMap: nil")
	}
	if err := checkGrid("HeatMap.Values", h.Values, h.Rows, h.Cols, "HeatMap.Rows", "HeatMap.Cols"); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	rows := indexLabels(h.Rows, len(h.Values))
	cols := indexLabels(h.Cols, len(h.Values[0]))
	hl := map[[2]int]bool{}
	for k, c := range h.Highlight {
		if c[0] < 0 || c[0] >= len(rows) || c[1] < 0 || c[1] >= len(cols) {
			return nil, fmt.Errorf("plots: HeatMap.Highlight[%d]: cell {%d, %d} is outside the %d x %d values", k, c[0], c[1], len(rows), len(cols))
		}
		hl[c] = true
	}
	if h.Transpose {
		rows, cols = cols, rows
	}
	for k, m := range h.Marks {
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			return nil, fmt.Errorf("plots: HeatMap.Marks[%d] %q: value %s: want a finite number", k, m.Label, exact(m.Value))
		}
	}
	minW := 36.0
	if h.ShowValues {
		minW = 44
	}
	defW := math.Max(minW, math.Min(96, math.Floor(520/float64(len(cols)))))
	cw, ch, err := cellSize("HeatMap", h.CellWidth, h.CellHeight, defW, 28)
	if err != nil {
		return nil, err
	}
	sc, err := makeScale(h.Values, nil, h.Min, h.Max, h.Colormap, "HeatMap", nil)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	vals := h.Values
	rowTitle, colTitle := h.RowTitle, h.ColTitle
	if h.Transpose {
		rowTitle, colTitle = colTitle, rowTitle
		vals = make([][]float64, len(rows))
		for i := range vals {
			vals[i] = make([]float64, len(cols))
			for j := range vals[i] {
				vals[i][j] = h.Values[j][i]
			}
		}
		t := map[[2]int]bool{}
		for c := range hl {
			t[[2]int{c[1], c[0]}] = true
		}
		hl = t
	}
	return &gridPlot{
		title: h.Title, rows: rows, cols: cols, columns: 1, cw: cw, ch: ch, maxLabel: 24,
		scale: sc, colorLabel: h.ColorLabel, rowTitle: rowTitle, colTitle: colTitle, marks: h.Marks,
		panels: []panel{{
			vals: vals, highlight: hl, showValues: h.ShowValues, showRowLabs: true, showColLabs: true,
			tip: func(i, j int) string {
				if h.Transpose { // the tooltip names the row label first, as Values has it
					return fmt.Sprintf("%s, %s: %s", visible(cols[j]), visible(rows[i]), exact(vals[i][j]))
				}
				return fmt.Sprintf("%s, %s: %s", visible(rows[i]), visible(cols[j]), exact(vals[i][j]))
			},
		}},
	}, nil
}

// Cells returns the number of cells, rows x columns (0 when Values is
// empty).
func (h *HeatMap) Cells() int {
	if h == nil || len(h.Values) == 0 {
		return 0
	}
	return len(h.Values) * len(h.Values[0])
}

// SVG renders the heat map: cells with tooltips holding the exact values,
// row and column labels (column labels turned 45 degrees when wider than a
// cell) with the axis titles, a color scale with its min, max, marks and
// ColorLabel, and the title.
func (h *HeatMap) SVG() (string, error) { return gridSVG(h.grid) }

// HTML returns the SVG in an HTML fragment.
func (h *HeatMap) HTML() (string, error) { return svgHTML("govene-heatmap", h.SVG) }
