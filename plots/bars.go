package plots

import (
	"fmt"
	"math"
	"sort"
)

// BarOrder is the order Bars draws its bars in.
type BarOrder int

const (
	// InOrder draws the bars in the order of Labels.
	InOrder BarOrder = iota
	// ByValue draws them from the largest value to the smallest.
	ByValue
	// ByMagnitude draws them from the largest absolute value to the
	// smallest (the heads that matter most first, whichever their sign).
	ByMagnitude
)

// Bars is a horizontal bar chart of signed values with labels, e.g. each
// attention head's (or each component's) direct logit attribution or
// attribution-patching score: bars to the right of zero for positive
// values (red) and to the left for negative ones (blue), each with its
// value written beside it and a tooltip holding the exact value. NaN and
// infinite values get no bar, and "nan", "+inf" or "-inf" as their value.
type Bars struct {
	// Title is drawn at the top.
	Title string
	// Labels name the bars, e.g. "L5H1" or "3_mlp_out" (one per value;
	// shown as tokens are, escaped).
	Labels []string
	// Values are the bars' values (required).
	Values []float64
	// XLabel names the values, under the axis.
	XLabel string
	// Order is the order of the bars (default InOrder).
	Order BarOrder
	// Limit draws only the first Limit bars in that order (0: all).
	Limit int
	// Width is the bars' area in pixels, both signs together (default 360);
	// BarHeight a bar's row in pixels (default 18).
	Width, BarHeight float64
}

func (b *Bars) title() string { return b.Title }

func (b *Bars) check() error {
	if err := checkFilled(b, "Bars", "Values", func(b *Bars) int { return len(b.Values) }); err != nil {
		return err
	}
	if b.Labels != nil && len(b.Labels) != len(b.Values) {
		return fmt.Errorf("plots: Bars.Labels: %d labels, but Bars.Values has %d", len(b.Labels), len(b.Values))
	}
	if b.Order < InOrder || b.Order > ByMagnitude {
		return fmt.Errorf("plots: Bars.Order: %d: want InOrder (0), ByValue (1) or ByMagnitude (2)", b.Order)
	}
	if b.Limit < 0 {
		return fmt.Errorf("plots: Bars.Limit: %d: want 0 (all) or more", b.Limit)
	}
	if b.Width != 0 && !(b.Width >= 50 && b.Width <= 1e4) {
		return fmt.Errorf("plots: Bars.Width: %s: want 0 (default) or 50 to 10000 pixels", exact(b.Width))
	}
	if b.BarHeight != 0 && !(b.BarHeight >= 4 && b.BarHeight <= 200) {
		return fmt.Errorf("plots: Bars.BarHeight: %s: want 0 (default) or 4 to 200 pixels", exact(b.BarHeight))
	}
	return nil
}

// order returns the indices of the bars to draw, in drawing order: sorted
// as Order says (NaN last, ties in Labels' order) and cut to Limit.
func (b *Bars) order() []int {
	idx := make([]int, len(b.Values))
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) float64 {
		v := b.Values[i]
		if b.Order == ByMagnitude {
			v = math.Abs(v)
		}
		if math.IsNaN(v) {
			return math.Inf(-1)
		}
		return v
	}
	if b.Order != InOrder {
		sort.SliceStable(idx, func(x, y int) bool { return key(idx[x]) > key(idx[y]) })
	}
	if b.Limit > 0 && b.Limit < len(idx) {
		idx = idx[:b.Limit]
	}
	return idx
}

// SVG renders the chart: one row per bar with its label, the bar from
// zero, its value beside the bar's end and a tooltip with the exact value;
// a zero line, an axis with round ticks under the bars, and XLabel. It
// returns an error naming the field for a nil chart, empty Values, Labels
// of another length, an unknown Order, a negative Limit or a bad size.
func (b *Bars) SVG() (string, error) {
	if err := b.check(); err != nil {
		return "", err
	}
	idx := b.order()
	labels := indexLabels(b.Labels, len(b.Values))
	shown := make([]string, len(b.Values))
	vals := make([]float64, 0, len(idx))
	const fs, pad = 12.0, 10.0
	labelW, valueW := 0.0, 0.0
	for _, i := range idx {
		shown[i] = truncate(visible(labels[i]), 32)
		labelW = math.Max(labelW, textWidth(shown[i], fs, true))
		valueW = math.Max(valueW, textWidth(short(b.Values[i]), 11, false))
		vals = append(vals, b.Values[i])
	}
	lo, hi, ok := finiteRange(vals)
	if !ok {
		lo, hi = 0, 1
	}
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	if lo == hi {
		hi = 1
	}
	w, bh := b.Width, b.BarHeight
	if w == 0 {
		w = 360
	}
	if bh == 0 {
		bh = 18
	}
	var sb svgBuilder
	top := pad
	titleW := 0.0
	if b.Title != "" {
		top += 28
		titleW = textWidth(oneLine(b.Title), 15, false) * 1.1
	}
	// The value labels go outside the bars' ends: room for them on each side
	// that has bars.
	left := pad + labelW + 8
	if lo < 0 {
		left += valueW + 6
	}
	right := left + w
	ax := axisMap{lo, hi, left, right}
	barsH := float64(len(idx)) * bh
	axisY := top + barsH + 4
	height := axisY + 30
	if b.XLabel != "" {
		height += 18
	}
	width := right + pad
	if hi > 0 {
		width += valueW + 6
	}
	width = math.Max(width, pad+titleW+pad)
	sb.open(width, height+pad, b.Title)
	sb.title(pad, b.Title)
	for _, t := range axisTicks(lo, hi) {
		x := ax.at(t.v)
		sb.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e1e1e1" stroke-width="1"/>`, num(x), num(top), num(x), num(axisY))
		sb.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#444444" stroke-width="1"/>`, num(x), num(axisY), num(x), num(axisY+4))
		sb.text(x, axisY+16, 11, "middle", "", false, t.label, "")
	}
	sb.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#444444" stroke-width="1"/>`, num(left), num(axisY), num(right), num(axisY))
	zero := ax.at(0)
	for k, i := range idx {
		v := b.Values[i]
		y := top + float64(k)*bh
		cy := y + bh/2 + fs*0.35
		tip := visible(labels[i]) + ": " + exact(v)
		sb.text(pad+labelW, cy, fs, "end", "", true, shown[i], visible(labels[i]))
		valueX, anchor := zero+4, "start"
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			x0, x1 := zero, ax.at(v)
			color, end := BlueRed.Color(0.85), x1+4
			if v < 0 {
				x0, x1 = x1, zero
				color, end, anchor = BlueRed.Color(0.15), x0-4, "end"
			}
			sb.printf(`<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`,
				num(x0), num(y+bh*0.15), num(math.Max(x1-x0, 0.5)), num(bh*0.7), color, esc(tip))
			valueX = end
		}
		sb.text(valueX, y+bh/2+11*0.35, 11, anchor, "", false, short(v), tip)
	}
	sb.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000" stroke-width="1"/>`, num(zero), num(top), num(zero), num(axisY))
	if b.XLabel != "" {
		sb.text((left+right)/2, axisY+34, axisTitleFS, "middle", "", false, oneLine(b.XLabel), "")
	}
	sb.WriteString(`</svg>`)
	return sb.String(), nil
}

// HTML returns the SVG in an HTML fragment, or SVG's error.
func (b *Bars) HTML() (string, error) { return svgHTML("govene-bars", b.SVG) }
