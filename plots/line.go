package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Series is one named line of a LineChart.
type Series struct {
	// Name labels the line in the legend.
	Name string
	// X and Y are the points; X nil means 0, 1, 2, ... NaN or infinite
	// points (and, with LogY, y <= 0) leave a gap in the line.
	X, Y []float64
}

// LineChart is a line chart with axes, ticks, grid and a legend, e.g. a
// training loss or an interchange intervention accuracy (IIA) curve. It is
// drawn by gonum.org/v1/plot.
type LineChart struct {
	// Title is drawn at the top; XLabel and YLabel name the axes.
	Title, XLabel, YLabel string
	// Series are the lines; the legend lists those with a name.
	Series []Series
	// LogY puts the y axis on a log scale.
	LogY bool
	// YMin and YMax fix the y axis (e.g. 0 and 1 for accuracies); nil fits
	// the data.
	YMin, YMax *float64
	// Width and Height are the chart's size in pixels (default 640 x 400).
	Width, Height float64
}

func (c *LineChart) title() string { return c.Title }

// palette is Tableau 10, the lines' colors in order.
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0xd6, 0x27, 0x28, 0xff},
	{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff},
	{0xbc, 0xbd, 0x22, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
}

func (c *LineChart) check() error {
	if err := checkFilled(c, "LineChart", "Series", func(c *LineChart) int { return len(c.Series) }); err != nil {
		return err
	}
	for i, s := range c.Series {
		if s.X != nil && len(s.X) != len(s.Y) {
			return fmt.Errorf("plots: LineChart.Series[%d] (%q): len(X) = %d, but len(Y) = %d", i, s.Name, len(s.X), len(s.Y))
		}
	}
	for _, b := range []struct {
		name string
		v    *float64
	}{{"YMin", c.YMin}, {"YMax", c.YMax}} {
		if b.v == nil {
			continue
		}
		if math.IsNaN(*b.v) || math.IsInf(*b.v, 0) {
			return fmt.Errorf("plots: LineChart.%s: %s: want a finite number", b.name, exact(*b.v))
		}
		if c.LogY && *b.v <= 0 {
			return fmt.Errorf("plots: LineChart.%s: %s: a log scale needs it above 0", b.name, exact(*b.v))
		}
	}
	if c.YMin != nil && c.YMax != nil && *c.YMin >= *c.YMax {
		return fmt.Errorf("plots: LineChart.YMin (%s) is not below LineChart.YMax (%s)", exact(*c.YMin), exact(*c.YMax))
	}
	for _, d := range []struct {
		name string
		v    float64
	}{{"Width", c.Width}, {"Height", c.Height}} {
		if d.v != 0 && !(d.v >= 50 && d.v <= 1e4) {
			return fmt.Errorf("plots: LineChart.%s: %s: want 0 (default) or 50 to 10000 pixels", d.name, exact(d.v))
		}
	}
	return nil
}

// segments splits a series into runs of plottable points.
func (s Series) segments(logY bool) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i, y := range s.Y {
		x := float64(i)
		if s.X != nil {
			x = s.X[i]
		}
		ok := !math.IsNaN(x) && !math.IsInf(x, 0) && !math.IsNaN(y) && !math.IsInf(y, 0) && (!logY || y > 0)
		if !ok {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: x, Y: y})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	if n := len(s.Y); n > maxPoints {
		k := (n + maxPoints/2 - 1) / (maxPoints / 2)
		for i, seg := range out {
			out[i] = decimate(seg, k)
		}
	}
	return out
}

// maxPoints is the most points a series is drawn with; longer series are
// decimated, keeping each bucket's lowest and highest point so that spikes
// stay visible.
const maxPoints = 2000

// decimate keeps the first and last points and, of each run of k points,
// the lowest and the highest, in order.
func decimate(seg plotter.XYs, k int) plotter.XYs {
	if k <= 2 || len(seg) <= 2 {
		return seg
	}
	out := make(plotter.XYs, 0, 2*len(seg)/k+4)
	last := -1
	add := func(i int) {
		if i > last {
			out = append(out, seg[i])
			last = i
		}
	}
	add(0)
	for start := 0; start < len(seg); start += k {
		end := min(start+k, len(seg))
		lo, hi := start, start
		for i := start; i < end; i++ {
			if seg[i].Y < seg[lo].Y {
				lo = i
			}
			if seg[i].Y > seg[hi].Y {
				hi = i
			}
		}
		add(min(lo, hi))
		add(max(lo, hi))
	}
	add(len(seg) - 1)
	return out
}

var svgSize = regexp.MustCompile(`^<svg width="[^"]*" height="[^"]*"`)

// SVG renders the chart with gonum/plot's SVG backend.
func (c *LineChart) SVG() (s string, err error) {
	if err := c.check(); err != nil {
		return "", err
	}
	defer func() { // gonum/plot panics on some inputs; none should reach it
		if r := recover(); r != nil {
			s, err = "", fmt.Errorf("plots: LineChart: gonum/plot: %v", r)
		}
	}()
	w, h := c.Width, c.Height
	if w == 0 {
		w = 640
	}
	if h == 0 {
		h = 400
	}
	sans := font.Font{Typeface: "Liberation", Variant: "Sans"}
	p := plot.New()
	p.Title.Text = oneLine(c.Title)
	p.Title.TextStyle.Font = font.From(sans, 11)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text, p.Y.Label.Text = oneLine(c.XLabel), oneLine(c.YLabel)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 9)
		a.Tick.Label.Font = font.From(sans, 8)
	}
	p.Legend.TextStyle.Font = font.From(sans, 9)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.Padding = vg.Points(3)
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)
	p.X.Tick.Marker = linearTicks{}
	p.Y.Tick.Marker = linearTicks{}
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}

	plotted, named := false, 0
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		style := draw.LineStyle{Color: col, Width: vg.Points(1.5)}
		glyph := draw.GlyphStyle{Color: col, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		segs := s.segments(c.LogY)
		var thumb plot.Thumbnailer
		for _, seg := range segs {
			plotted = true
			l, err := plotter.NewLine(seg)
			if err != nil {
				return "", fmt.Errorf("plots: LineChart.Series[%d]: %w", i, err)
			}
			l.LineStyle = style
			p.Add(l)
			if thumb == nil {
				thumb = l
			}
			if len(seg) == 1 || len(s.Y) <= 50 {
				sc, err := plotter.NewScatter(seg)
				if err != nil {
					return "", fmt.Errorf("plots: LineChart.Series[%d]: %w", i, err)
				}
				sc.GlyphStyle = glyph
				p.Add(sc)
			}
		}
		if s.Name != "" {
			if thumb == nil { // no plottable points: still list the series
				l := &plotter.Line{LineStyle: style}
				thumb = l
			}
			p.Legend.Add(oneLine(s.Name), thumb)
			named++
		}
	}
	if !plotted {
		p.X.Min, p.X.Max = 0, 1
		p.Y.Min, p.Y.Max = 0, 1
		if c.LogY {
			p.Y.Min, p.Y.Max = 1, 10
		}
	}
	if c.YMin != nil {
		p.Y.Min = *c.YMin
	}
	if c.YMax != nil {
		p.Y.Max = *c.YMax
	}
	if p.Y.Min > p.Y.Max { // one bound fixed beyond all the data
		if c.YMin != nil {
			p.Y.Max = p.Y.Min * 10
			if !c.LogY {
				p.Y.Max = p.Y.Min + 1
			}
		} else {
			p.Y.Min = p.Y.Max / 10
			if !c.LogY {
				p.Y.Min = p.Y.Max - 1
			}
		}
	}
	if c.LogY && p.Y.Min == p.Y.Max {
		p.Y.Min, p.Y.Max = p.Y.Min/2, p.Y.Max*2
	}

	const ptPerPx = 0.75
	cv := vgsvg.NewWith(vgsvg.UseWH(vg.Length(w*ptPerPx), vg.Length(h*ptPerPx)))
	dc := draw.Crop(draw.New(cv), vg.Points(4), -vg.Points(4), vg.Points(4), -vg.Points(6))
	plotArea := dc
	var legendW vg.Length
	if named > 0 {
		legendW = p.Legend.Rectangle(dc).Size().X + vg.Points(24)
		legendW = min(legendW, dc.Size().X/2)
		plotArea = draw.Crop(dc, 0, -legendW, 0, 0)
	}
	legend := p.Legend
	p.Legend = plot.NewLegend() // drawn outside the data area, below
	p.Draw(plotArea)
	if legendW > 0 {
		top := vg.Points(6)
		if p.Title.Text != "" {
			top += p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
		}
		legend.Draw(draw.Crop(dc, dc.Size().X-legendW+vg.Points(12), 0, 0, -top))
	}
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("plots: LineChart: %w", err)
	}
	return fixGonumSVG(buf.String(), w, h, c.Title), nil
}

// fixGonumSVG turns gonum's SVG document into an <svg> element sized in
// pixels, with font fallbacks for browsers without Liberation fonts (Arial
// has the same metrics).
func fixGonumSVG(s string, w, h float64, title string) string {
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	s = svgSize.ReplaceAllLiteralString(s, fmt.Sprintf(`<svg width="%s" height="%s" role="img" aria-label="%s"`, num(w), num(h), esc(oneLine(title))))
	s = strings.ReplaceAll(s, "font-family:Liberation Sans;", "font-family:"+sansFont+";")
	return strings.TrimSpace(s)
}

// HTML returns the SVG in an HTML fragment.
func (c *LineChart) HTML() (string, error) { return svgHTML("govene-linechart", c.SVG) }

// linearTicks marks a linear axis with labelled ticks at multiples of a
// round step (1, 2 or 5 times a power of ten) chosen to give about six,
// written with the decimals the step needs ("0", "50", "100"; "0.5",
// "1.0"), and unlabelled ticks halfway between. gonum's default ticks can
// label a step of 75 as "25.00", "100.00", "175.00".
type linearTicks struct{}

// Ticks implements plot.Ticker.
func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	step := niceStep(hi-lo, 6)
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	var out []plot.Tick
	for k := math.Ceil(lo/step*2 - 1e-9); k <= math.Floor(hi/step*2+1e-9); k++ {
		v := k * step / 2
		t := plot.Tick{Value: v}
		if math.Mod(k, 2) == 0 {
			t.Label = strconv.FormatFloat(v, 'f', decimals, 64)
			if t.Label == "-"+strconv.FormatFloat(0, 'f', decimals, 64) {
				t.Label = t.Label[1:]
			}
		}
		out = append(out, t)
	}
	return out
}

// niceStep returns the step of 1, 2 or 5 times a power of ten that splits
// span into the number of steps nearest to n.
func niceStep(span float64, n int) float64 {
	e := math.Pow(10, math.Floor(math.Log10(span/float64(n))))
	best, bestDiff := e, math.Inf(1)
	for _, m := range []float64{1, 2, 5, 10} {
		d := math.Abs(span/(m*e) - float64(n))
		if d < bestDiff {
			best, bestDiff = m*e, d
		}
	}
	return best
}

// logTicks marks a log axis: labelled ticks at 1, 2 and 5 times the powers
// of ten when the axis spans less than three decades (loss curves), at the
// powers of ten otherwise, with unlabelled ticks in between.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 0) {
		return nil
	}
	e0, e1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	if e1-e0 > 60 {
		return plot.LogTicks{Prec: -1}.Ticks(lo, hi)
	}
	labelled := map[int]bool{1: true}
	if e1-e0 <= 3 {
		labelled[2], labelled[5] = true, true
	}
	var out []plot.Tick
	for e := e0; e <= e1; e++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow(10, float64(e))
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if labelled[m] {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			out = append(out, t)
		}
	}
	return out
}
