package plots

import (
	"fmt"
	"math"
	"strings"
)

// This file draws the cell grids shared by HeatMap, AttentionPattern and
// AttentionHeads: one or more panels of colored cells with token labels, and
// one color scale legend.

// svgBuilder collects SVG markup.
type svgBuilder struct{ strings.Builder }

func (b *svgBuilder) printf(format string, args ...any) { fmt.Fprintf(b, format, args...) }

// open writes the root element and a white background.
func (b *svgBuilder) open(w, h float64, label string) {
	b.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="%s" font-family="%s" font-size="12">`,
		num(w), num(h), num(w), num(h), esc(oneLine(label)), sansFont)
	b.printf(`<rect x="0" y="0" width="%s" height="%s" fill="#ffffff"/>`, num(w), num(h))
}

// text writes a text element; mono selects the token font and preserves
// spaces; tip, when not empty, becomes its tooltip.
func (b *svgBuilder) text(x, y, fs float64, anchor, transform string, mono bool, s, tip string) {
	b.printf(`<text x="%s" y="%s" font-size="%s"`, num(x), num(y), num(fs))
	if anchor != "" {
		b.printf(` text-anchor="%s"`, anchor)
	}
	if transform != "" {
		b.printf(` transform="%s"`, transform)
	}
	if mono {
		b.printf(` font-family="%s" xml:space="preserve" style="white-space:pre"`, monoFont)
	}
	b.printf(`>%s`, esc(s))
	if tip != "" {
		b.printf(`<title>%s</title>`, esc(tip))
	}
	b.WriteString(`</text>`)
}

// title writes a plot's title at the top left and returns the height used.
func (b *svgBuilder) title(x float64, s string) float64 {
	if s == "" {
		return 0
	}
	b.printf(`<text x="%s" y="20" font-size="15" font-weight="bold">%s</text>`, num(x), esc(oneLine(s)))
	return 28
}

// scale maps values to colors.
type scale struct {
	lo, hi float64
	cmap   *Colormap
}

func (s scale) t(v float64) float64 {
	if s.hi <= s.lo {
		if s.cmap.diverging {
			return 0.5
		}
		if v > s.lo {
			return 1
		}
		return 0
	}
	return (v - s.lo) / (s.hi - s.lo)
}

func (s scale) color(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nanColor
	}
	return s.cmap.Color(s.t(v))
}

// makeScale picks the color scale: fixed bounds where given, else the range
// of the finite visible values ([0, 1] when there are none); the colormap
// cmap, else BlueRed when the scale reaches below zero and Purples
// otherwise; a diverging colormap with both bounds automatic gets a scale
// symmetric around zero.
func makeScale(vals [][]float64, hidden func(i, j int) bool, minp, maxp *float64, cmap *Colormap, field string, def *Colormap) (scale, error) {
	if minp != nil && (math.IsNaN(*minp) || math.IsInf(*minp, 0)) {
		return scale{}, fmt.Errorf("%s.Min: %s: want a finite number", field, exact(*minp))
	}
	if maxp != nil && (math.IsNaN(*maxp) || math.IsInf(*maxp, 0)) {
		return scale{}, fmt.Errorf("%s.Max: %s: want a finite number", field, exact(*maxp))
	}
	if minp != nil && maxp != nil && *minp > *maxp {
		return scale{}, fmt.Errorf("%s.Min (%s) is above %s.Max (%s)", field, exact(*minp), field, exact(*maxp))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, row := range vals {
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) || (hidden != nil && hidden(i, j)) {
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	if minp != nil {
		lo = *minp
	}
	if maxp != nil {
		hi = *maxp
	}
	if lo > hi { // one bound fixed beyond all the data
		if minp != nil {
			hi = lo
		} else {
			lo = hi
		}
	}
	if cmap == nil {
		cmap = def
		if cmap == nil {
			cmap = Purples
			if lo < 0 {
				cmap = BlueRed
			}
		}
	}
	if cmap.diverging && minp == nil && maxp == nil {
		m := math.Max(math.Abs(lo), math.Abs(hi))
		lo, hi = -m, m
	}
	return scale{lo: lo, hi: hi, cmap: cmap}, nil
}

// panel is one grid of cells.
type panel struct {
	name        string // drawn above the panel when not empty
	vals        [][]float64
	hidden      func(i, j int) bool
	highlight   map[[2]int]bool
	tip         func(i, j int) string
	showValues  bool
	showRowLabs bool
	showColLabs bool
	// text, when not nil, is written in each cell instead of its value (a
	// token, in the token font).
	text func(i, j int) string
}

// gridPlot is a set of panels sharing labels, cell size and a color scale.
type gridPlot struct {
	title      string
	rows, cols []string // labels (raw)
	panels     []panel
	columns    int // panels per row
	cw, ch     float64
	maxLabel   int // runes per label before truncation
	scale      scale
	colorLabel string
	// rowTitle and colTitle are the axis titles: left of the row labels
	// (turned 90 degrees) and under the column labels.
	rowTitle, colTitle string
	marks              []Mark // values marked on the color scale
}

// axisTitleFS is the font size of the axis titles.
const axisTitleFS = 13.0

func (g *gridPlot) labelFont() float64 { return math.Max(7, math.Min(13, g.ch*0.8)) }

func (g *gridPlot) labels(ls []string) (shown []string, width float64) {
	fs := g.labelFont()
	shown = make([]string, len(ls))
	for i, l := range ls {
		shown[i] = truncate(visible(l), g.maxLabel)
		width = math.Max(width, textWidth(shown[i], fs, true))
	}
	return shown, width
}

// svg lays the panels out in a grid with the legend on the right.
func (g *gridPlot) svg() string {
	const pad, hgap, vgap, legendGap = 10.0, 16.0, 10.0, 18.0
	fs := g.labelFont()
	rowLabs, rowW := g.labels(g.rows)
	colLabs, colW := g.labels(g.cols)
	nr, nc := len(g.rows), len(g.cols)
	gridW, gridH := float64(nc)*g.cw, float64(nr)*g.ch

	rotate := colW > g.cw-2
	colH := fs + 6
	overflow := 0.0 // how far rotated column labels reach left of a panel
	if rotate {
		const s = math.Sqrt2 / 2
		colH = colW*s + fs*s + 8
		overflow = colW*s - g.cw/2 + fs
	}
	columns := max(1, min(g.columns, len(g.panels)))
	gridRows := (len(g.panels) + columns - 1) / columns
	nameH := 0.0
	for _, p := range g.panels {
		if p.name != "" {
			nameH = 16
		}
	}
	// Column labels go under each panel with no panel below it; give each
	// row of panels the band if any of its panels needs it.
	bandH := make([]float64, gridRows)
	for k, p := range g.panels {
		if p.showColLabs {
			bandH[k/columns] = colH
		}
	}
	panelGap := hgap
	if rotate && len(g.panels) > 1 {
		panelGap = math.Max(hgap, overflow+4)
	}

	rowTitleW, colTitleH := 0.0, 0.0
	if g.rowTitle != "" {
		rowTitleW = axisTitleFS + 8
	}
	if g.colTitle != "" {
		colTitleH = axisTitleFS + 10
	}

	var b svgBuilder
	// First pass: the size.
	left := pad + rowTitleW + math.Max(rowW+6, overflow)
	top := pad
	titleW := 0.0
	if g.title != "" {
		top += 28
		titleW = textWidth(oneLine(g.title), 15, false) * 1.1
	}
	gridsW := float64(columns)*gridW + float64(columns-1)*panelGap
	gridsH := 0.0
	for r := range gridRows {
		gridsH += nameH + gridH + bandH[r]
		if r > 0 {
			gridsH += vgap
		}
	}
	legendX := left + gridsW + legendGap
	legendY := top + nameH
	legendH := math.Max(gridH, 120)
	legendW, legendTotalH := legendSize(g.scale, g.colorLabel, g.marks, legendH, g.hasNonFinite())
	width := math.Max(legendX+legendW+pad, pad+titleW+pad)
	height := math.Max(top+gridsH+colTitleH, legendY+legendTotalH) + pad

	b.open(width, height, g.title)
	b.title(pad, g.title)

	y := top
	for r := range gridRows {
		if r > 0 {
			y += vgap
		}
		for c := range columns {
			k := r*columns + c
			if k >= len(g.panels) {
				break
			}
			x := left + float64(c)*(gridW+panelGap)
			g.drawPanel(&b, &g.panels[k], x, y, nameH, rowLabs, colLabs, rotate, fs)
		}
		y += nameH + gridH + bandH[r]
	}
	if g.colTitle != "" {
		b.printf(`<text class="axis-title col-title" x="%s" y="%s" font-size="%s" text-anchor="middle">%s</text>`,
			num(left+gridsW/2), num(y+axisTitleFS+4), num(axisTitleFS), esc(oneLine(g.colTitle)))
	}
	if g.rowTitle != "" {
		b.printf(`<text class="axis-title row-title" x="0" y="0" font-size="%s" text-anchor="middle" transform="translate(%s %s) rotate(-90)">%s</text>`,
			num(axisTitleFS), num(pad+axisTitleFS), num(top+nameH+(gridsH-nameH-bandH[len(bandH)-1])/2), esc(oneLine(g.rowTitle)))
	}
	drawLegend(&b, legendX, legendY, legendH, g.scale, g.colorLabel, g.marks, g.hasNonFinite())
	b.WriteString(`</svg>`)
	return b.String()
}

func (g *gridPlot) hasNonFinite() bool {
	for _, p := range g.panels {
		for i, row := range p.vals {
			for j, v := range row {
				if (math.IsNaN(v) || math.IsInf(v, 0)) && (p.hidden == nil || !p.hidden(i, j)) {
					return true
				}
			}
		}
	}
	return false
}

func (g *gridPlot) drawPanel(b *svgBuilder, p *panel, x, y, nameH float64, rowLabs, colLabs []string, rotate bool, fs float64) {
	if p.name != "" {
		b.text(x, y+12, 12, "", "", false, p.name, "")
	}
	y += nameH
	gridH := float64(len(g.rows)) * g.ch
	b.WriteString(`<g shape-rendering="crispEdges">`)
	for i, row := range p.vals {
		for j, v := range row {
			if p.hidden != nil && p.hidden(i, j) {
				continue
			}
			b.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`,
				num(x+float64(j)*g.cw), num(y+float64(i)*g.ch), num(g.cw), num(g.ch), g.scale.color(v), esc(p.tip(i, j)))
		}
	}
	b.WriteString(`</g>`)
	if p.showValues || p.text != nil {
		vfs := math.Min(10, g.ch*0.5)
		for i, row := range p.vals {
			for j, v := range row {
				if p.hidden != nil && p.hidden(i, j) {
					continue
				}
				tc := "#000000"
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					tc = g.scale.cmap.textColor(g.scale.t(v))
				}
				s, font := short(v), ""
				if p.text != nil {
					s = p.text(i, j)
					font = ` font-family="` + monoFont + `" xml:space="preserve" style="white-space:pre"`
				}
				b.printf(`<text x="%s" y="%s" font-size="%s" text-anchor="middle" fill="%s" pointer-events="none"%s>%s</text>`,
					num(x+(float64(j)+0.5)*g.cw), num(y+(float64(i)+0.5)*g.ch+vfs*0.35), num(vfs), tc, font, esc(s))
			}
		}
	}
	for _, hl := range sortedCells(p.highlight) {
		b.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#e31a1c" stroke-width="2.5" pointer-events="none"/>`,
			num(x+float64(hl[1])*g.cw+1.25), num(y+float64(hl[0])*g.ch+1.25), num(g.cw-2.5), num(g.ch-2.5))
	}
	if p.showRowLabs {
		for i, l := range rowLabs {
			b.text(x-4, y+(float64(i)+0.5)*g.ch+fs*0.35, fs, "end", "", true, l, visible(g.rows[i]))
		}
	}
	if p.showColLabs {
		for j, l := range colLabs {
			cx := x + (float64(j)+0.5)*g.cw
			if rotate {
				b.text(0, fs*0.35, fs, "end", fmt.Sprintf("translate(%s %s) rotate(-45)", num(cx), num(y+gridH+6)), true, l, visible(g.cols[j]))
			} else {
				b.text(cx, y+gridH+fs+3, fs, "middle", "", true, l, visible(g.cols[j]))
			}
		}
	}
}

func sortedCells(m map[[2]int]bool) [][2]int {
	out := make([][2]int, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	for i := 1; i < len(out); i++ { // insertion sort, for a stable output
		for j := i; j > 0 && (out[j][0] < out[j-1][0] || (out[j][0] == out[j-1][0] && out[j][1] < out[j-1][1])); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

const (
	legendBarW  = 14.0
	legendFS    = 11.0
	legendSteps = 64
)

func legendTicks(s scale) []float64 {
	ticks := []float64{s.hi, s.lo}
	if s.hi > s.lo {
		mid := (s.lo + s.hi) / 2
		if s.lo < 0 && s.hi > 0 && !s.cmap.diverging {
			mid = 0
		}
		ticks = []float64{s.hi, mid, s.lo}
	}
	return ticks
}

// legendTickW is the width of the tick labels left of the color bar.
func legendTickW(s scale) float64 {
	tw := 0.0
	for _, v := range legendTicks(s) {
		tw = math.Max(tw, textWidth(short(v), legendFS, false))
	}
	return tw
}

// markText is a mark's label beside the color bar.
func markText(m Mark) string {
	if m.Label == "" {
		return short(m.Value)
	}
	return oneLine(m.Label) + " " + short(m.Value)
}

// legendSize returns the width and height of the color scale legend: tick
// labels, the bar, the marks' labels and the color label.
func legendSize(s scale, label string, marks []Mark, h float64, nan bool) (w, totalH float64) {
	w = legendTickW(s) + 5 + legendBarW
	mw := 0.0
	for _, m := range marks {
		mw = math.Max(mw, textWidth(markText(m), legendFS, false)+12)
	}
	w += mw
	if label != "" {
		w += 8 + legendFS + 4
	}
	totalH = h
	if nan {
		totalH += 26
		w = math.Max(w, legendTickW(s)+5+legendBarW+5+textWidth("nan/inf", legendFS, false))
	}
	return w, totalH
}

// markYs returns the y of each mark on a bar from y to y+h, and the y of
// its label: the labels in value order, at least a line apart, within the
// bar's height where they fit.
func markYs(s scale, marks []Mark, y, h float64) (at, labelAt []float64) {
	at = make([]float64, len(marks))
	labelAt = make([]float64, len(marks))
	order := make([]int, len(marks))
	for i, m := range marks {
		t := s.t(m.Value)
		if s.hi <= s.lo {
			t = 0.5
		}
		at[i] = y + h*(1-math.Max(0, math.Min(1, t)))
		order[i] = i
	}
	for i := 1; i < len(order); i++ { // top to bottom, stable
		for j := i; j > 0 && at[order[j]] < at[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	const gap = legendFS + 2
	prev := math.Inf(-1)
	for _, i := range order {
		labelAt[i] = math.Max(at[i], prev+gap)
		prev = labelAt[i]
	}
	// Pushed below the bar: move the labels up, keeping them apart.
	next := math.Inf(1)
	for k := len(order) - 1; k >= 0; k-- {
		i := order[k]
		labelAt[i] = math.Min(labelAt[i], math.Min(y+h+legendFS/2, next-gap))
		next = labelAt[i]
	}
	return at, labelAt
}

// drawLegend draws a vertical color bar with its max at the top and its min
// at the bottom, tick labels on its left, the marks across it with their
// labels on its right, the label alongside, and a "nan" swatch when needed.
// x is the legend's left edge.
func drawLegend(b *svgBuilder, x, y, h float64, s scale, label string, marks []Mark, nan bool) {
	b.WriteString(`<g class="legend">`)
	tw := legendTickW(s)
	bx := x + tw + 5 // the bar's left edge
	step := h / legendSteps
	b.WriteString(`<g shape-rendering="crispEdges">`)
	for i := range legendSteps {
		t := 1 - (float64(i)+0.5)/legendSteps
		b.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`,
			num(bx), num(y+float64(i)*step), num(legendBarW), num(step+0.5), s.cmap.Color(t))
	}
	b.WriteString(`</g>`)
	b.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#888888" stroke-width="0.5"/>`,
		num(bx), num(y), num(legendBarW), num(h))
	ticks := legendTicks(s)
	for k, v := range ticks {
		ty := y + h*float64(k)/float64(len(ticks)-1)
		if s.hi > s.lo {
			ty = y + h*(1-s.t(v))
		}
		name := "max"
		switch {
		case k == len(ticks)-1:
			name = "min"
		case k > 0:
			name = "mid"
		}
		b.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#444444" stroke-width="1"/>`,
			num(bx-3), num(ty), num(bx), num(ty))
		b.text(bx-5, ty+legendFS*0.35, legendFS, "end", "", false, short(v), name+" "+exact(v))
	}
	mx := bx + legendBarW
	mw := 0.0
	at, labelAt := markYs(s, marks, y, h)
	for i, m := range marks {
		b.printf(`<g class="mark"><title>%s</title>`, esc(oneLine(m.Label)+": "+exact(m.Value)))
		b.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000" stroke-width="2"/>`, num(bx-2), num(at[i]), num(mx+2), num(at[i]))
		b.printf(`<polyline points="%s,%s %s,%s %s,%s" fill="none" stroke="#000000" stroke-width="0.75"/>`,
			num(mx+2), num(at[i]), num(mx+6), num(labelAt[i]), num(mx+9), num(labelAt[i]))
		b.text(mx+11, labelAt[i]+legendFS*0.35, legendFS, "", "", false, markText(m), "")
		b.WriteString(`</g>`)
		mw = math.Max(mw, textWidth(markText(m), legendFS, false)+12)
	}
	if label != "" {
		lx := mx + mw + 8 + legendFS
		b.text(0, 0, legendFS, "middle", fmt.Sprintf("translate(%s %s) rotate(-90)", num(lx-2), num(y+h/2)), false, oneLine(label), "")
	}
	if nan {
		b.printf(`<rect x="%s" y="%s" width="%s" height="10" fill="%s"/>`, num(bx), num(y+h+12), num(legendBarW), nanColor)
		b.text(mx+5, y+h+21, legendFS, "", "", false, "nan/inf", "cells with no finite value")
	}
	b.WriteString(`</g>`)
}
