package plots

import (
	"fmt"
	"math"
	"sort"
)

// Scatter is a scatter plot of pairs of values, e.g. each site's
// attribution-patching estimate (X) against its exact activation patching
// effect (Y). Both axes share one range, so the diagonal y = x (drawn
// unless HideDiagonal) is where the estimate is exact. Each point's
// tooltip holds its label and exact values; Annotate writes the labels of
// the points farthest from the origin. NaN and infinite points are not
// drawn (a note under the axis counts them).
type Scatter struct {
	// Title is drawn at the top, with the correlation after it when
	// Correlation is set: "attribution vs exact (r = 0.93)".
	Title string
	// XLabel and YLabel name the axes (e.g. "attribution patching" and
	// "activation patching"); empty: "x" and "y" in tooltips, no title on
	// the axis.
	XLabel, YLabel string
	// X and Y are the points' coordinates (required, of equal length).
	X, Y []float64
	// Labels name the points, e.g. "L5H1" or "3_mlp_out pos 4" (nil: their
	// indices; otherwise one per point).
	Labels []string
	// Correlation, when not nil, is shown in the title as "r = ...".
	Correlation *float64
	// HideDiagonal leaves out the line y = x.
	HideDiagonal bool
	// Annotate writes the labels of this many points beside them, those
	// with the largest max(|x|, |y|) (0: none).
	Annotate int
	// Size is the side of the square plot area in pixels (default 360).
	Size float64
}

func (s *Scatter) title() string {
	if s.Correlation == nil {
		return s.Title
	}
	r := "r = " + short(*s.Correlation)
	if s.Title == "" {
		return r
	}
	return s.Title + " (" + r + ")"
}

func (s *Scatter) check() error {
	if err := checkFilled(s, "Scatter", "X", func(s *Scatter) int { return len(s.X) }); err != nil {
		return err
	}
	if len(s.Y) != len(s.X) {
		return fmt.Errorf("plots: Scatter.Y: %d values, but Scatter.X has %d", len(s.Y), len(s.X))
	}
	if s.Labels != nil && len(s.Labels) != len(s.X) {
		return fmt.Errorf("plots: Scatter.Labels: %d labels, but Scatter.X has %d points", len(s.Labels), len(s.X))
	}
	if s.Annotate < 0 {
		return fmt.Errorf("plots: Scatter.Annotate: %d: want 0 (none) or more", s.Annotate)
	}
	if s.Size != 0 && !(s.Size >= 50 && s.Size <= 1e4) {
		return fmt.Errorf("plots: Scatter.Size: %s: want 0 (default) or 50 to 10000 pixels", exact(s.Size))
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// annotated returns the indices of the finite points whose labels are
// written: the Annotate ones with the largest max(|x|, |y|), ties in
// order.
func (s *Scatter) annotated() map[int]bool {
	var idx []int
	for i := range s.X {
		if finite(s.X[i]) && finite(s.Y[i]) {
			idx = append(idx, i)
		}
	}
	mag := func(i int) float64 { return math.Max(math.Abs(s.X[i]), math.Abs(s.Y[i])) }
	sort.SliceStable(idx, func(a, b int) bool { return mag(idx[a]) > mag(idx[b]) })
	out := map[int]bool{}
	for _, i := range idx[:min(s.Annotate, len(idx))] {
		out[i] = true
	}
	return out
}

// SVG renders the plot: the points with tooltips, the diagonal, zero lines
// where zero is in range, ticks and axis titles on both axes, and the
// annotated points' labels. It returns an error naming the field for a
// nil plot, empty X, Y or Labels of another length, a negative Annotate or
// a bad Size.
func (s *Scatter) SVG() (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	lo, hi, ok := finiteRange(s.X, s.Y)
	if !ok {
		lo, hi = 0, 1
	}
	lo, hi = axisRange(lo, hi)
	size := s.Size
	if size == 0 {
		size = 360
	}
	ticks := axisTicks(lo, hi)
	const pad, tfs = 10.0, 11.0
	tickW := 0.0
	for _, t := range ticks {
		tickW = math.Max(tickW, textWidth(t.label, tfs, false))
	}
	title := s.title()
	top := pad
	titleW := 0.0
	if title != "" {
		top += 28
		titleW = textWidth(oneLine(title), 15, false) * 1.1
	}
	left := pad + tickW + 8
	if s.YLabel != "" {
		left += axisTitleFS + 8
	}
	right, bottom := left+size, top+size
	xs := axisMap{lo, hi, left, right}
	ys := axisMap{lo, hi, bottom, top}
	height := bottom + 24
	if s.XLabel != "" {
		height += 18
	}
	skipped := 0
	for i := range s.X {
		if !finite(s.X[i]) || !finite(s.Y[i]) {
			skipped++
		}
	}
	if skipped > 0 {
		height += 16
	}
	labels := indexLabels(s.Labels, len(s.X))
	ann := s.annotated()
	width := right + pad
	for i := range ann {
		width = math.Max(width, xs.at(s.X[i])+6+textWidth(truncate(visible(labels[i]), 24), 10, true)+pad)
	}
	width = math.Max(width, pad+titleW+pad)

	var b svgBuilder
	b.open(width, height+pad, title)
	b.title(pad, title)
	b.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#888888" stroke-width="1"/>`, num(left), num(top), num(size), num(size))
	for _, t := range ticks {
		x, y := xs.at(t.v), ys.at(t.v)
		b.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e8e8e8" stroke-width="1"/>`, num(x), num(top), num(x), num(bottom))
		b.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e8e8e8" stroke-width="1"/>`, num(left), num(y), num(right), num(y))
		b.text(x, bottom+15, tfs, "middle", "", false, t.label, "")
		b.text(left-5, y+tfs*0.35, tfs, "end", "", false, t.label, "")
	}
	if lo < 0 && hi > 0 {
		x, y := xs.at(0), ys.at(0)
		b.printf(`<line class="zero" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999999" stroke-width="1"/>`, num(x), num(top), num(x), num(bottom))
		b.printf(`<line class="zero" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999999" stroke-width="1"/>`, num(left), num(y), num(right), num(y))
	}
	if !s.HideDiagonal {
		b.printf(`<line class="diagonal" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#d6604d" stroke-width="1.2" stroke-dasharray="5 4"><title>y = x</title></line>`,
			num(left), num(bottom), num(right), num(top))
	}
	xName, yName := oneLine(s.XLabel), oneLine(s.YLabel)
	if xName == "" {
		xName = "x"
	}
	if yName == "" {
		yName = "y"
	}
	b.WriteString(`<g class="points">`)
	for i := range s.X {
		if !finite(s.X[i]) || !finite(s.Y[i]) {
			continue
		}
		b.printf(`<circle cx="%s" cy="%s" r="3.5" fill="#1f77b4" fill-opacity="0.7" stroke="#0b3c5d" stroke-width="0.6"><title>%s</title></circle>`,
			num(xs.at(s.X[i])), num(ys.at(s.Y[i])),
			esc(fmt.Sprintf("%s: %s = %s, %s = %s", visible(labels[i]), xName, exact(s.X[i]), yName, exact(s.Y[i]))))
	}
	b.WriteString(`</g>`)
	for i := range s.X {
		if ann[i] {
			b.text(xs.at(s.X[i])+6, ys.at(s.Y[i])-4, 10, "", "", true, truncate(visible(labels[i]), 24), visible(labels[i]))
		}
	}
	y := bottom + 24
	if s.XLabel != "" {
		b.text((left+right)/2, y+12, axisTitleFS, "middle", "", false, xName, "")
		y += 18
	}
	if s.YLabel != "" {
		b.printf(`<text class="axis-title" x="0" y="0" font-size="%s" text-anchor="middle" transform="translate(%s %s) rotate(-90)">%s</text>`,
			num(axisTitleFS), num(pad+axisTitleFS), num((top+bottom)/2), esc(yName))
	}
	if skipped > 0 {
		b.text(left, y+12, tfs, "", "", false, fmt.Sprintf("%d point(s) with nan or inf not drawn", skipped), "")
	}
	b.WriteString(`</svg>`)
	return b.String(), nil
}

// HTML returns the SVG in an HTML fragment, or SVG's error.
func (s *Scatter) HTML() (string, error) { return svgHTML("govene-scatter", s.SVG) }
