package plots

import (
	"fmt"
	"math"
)

// Colormap maps a value in [0, 1] to a color by linear interpolation between
// evenly spaced stops. Use one of the package's colormaps (Viridis, Purples,
// Blues, Greens, Reds, BlueRed) or make one with NewColormap.
type Colormap struct {
	name      string
	stops     [][3]uint8
	diverging bool
}

// NewColormap returns a colormap through the given "#rrggbb" colors, the
// first at 0 and the last at 1; diverging says the middle color means zero
// (HeatMap then centers its automatic scale on zero). It needs at least two
// valid colors.
func NewColormap(name string, diverging bool, colors ...string) (*Colormap, error) {
	if len(colors) < 2 {
		return nil, fmt.Errorf("plots: NewColormap %q: colors: need at least 2, got %d", name, len(colors))
	}
	c := &Colormap{name: name, diverging: diverging}
	for i, s := range colors {
		var r, g, b uint8
		if len(s) != 7 || s[0] != '#' {
			return nil, fmt.Errorf("plots: NewColormap %q: colors[%d] %q: want #rrggbb", name, i, s)
		}
		if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
			return nil, fmt.Errorf("plots: NewColormap %q: colors[%d] %q: want #rrggbb", name, i, s)
		}
		c.stops = append(c.stops, [3]uint8{r, g, b})
	}
	return c, nil
}

func mustColormap(name string, diverging bool, colors ...string) *Colormap {
	c, err := NewColormap(name, diverging, colors...)
	if err != nil {
		panic(err) // only for the package's own constant colormaps
	}
	return c
}

var (
	// Viridis is matplotlib's perceptually uniform dark-purple -> yellow map.
	Viridis = mustColormap("viridis", false,
		"#440154", "#472d7b", "#3b528b", "#2c728e", "#21908c", "#27ad81", "#5dc863", "#aadc32", "#fde725")
	// Purples is ColorBrewer's white -> purple map (ROME's figures use these
	// sequential maps; the default for non-negative heat maps).
	Purples = mustColormap("purples", false,
		"#fcfbfd", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#54278f", "#3f007d")
	// Blues is ColorBrewer's white -> blue map (the default for attention).
	Blues = mustColormap("blues", false,
		"#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
	// Greens is ColorBrewer's white -> green map.
	Greens = mustColormap("greens", false,
		"#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b")
	// Reds is ColorBrewer's white -> red map.
	Reds = mustColormap("reds", false,
		"#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d")
	// BlueRed is ColorBrewer's RdBu reversed: blue for negative, white for
	// zero, red for positive (the default for heat maps with negative values).
	BlueRed = mustColormap("bluered", true,
		"#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f")
)

// nanColor is the neutral color of NaN and infinite cells.
const nanColor = "#b0b0b0"

// Name returns the colormap's name.
func (c *Colormap) Name() string { return c.name }

// Diverging reports whether the colormap's middle color stands for zero.
func (c *Colormap) Diverging() bool { return c.diverging }

func (c *Colormap) rgb(t float64) [3]uint8 {
	if math.IsNaN(t) {
		t = 0
	}
	t = math.Min(math.Max(t, 0), 1)
	f := t * float64(len(c.stops)-1)
	i := int(math.Floor(f))
	if i >= len(c.stops)-1 {
		return c.stops[len(c.stops)-1]
	}
	u := f - float64(i)
	a, b := c.stops[i], c.stops[i+1]
	var out [3]uint8
	for k := range out {
		out[k] = uint8(math.Round(float64(a[k])*(1-u) + float64(b[k])*u))
	}
	return out
}

// Color returns the "#rrggbb" color at t, clamped to [0, 1].
func (c *Colormap) Color(t float64) string {
	v := c.rgb(t)
	return fmt.Sprintf("#%02x%02x%02x", v[0], v[1], v[2])
}

// textColor returns black or white, whichever reads better on the color at t.
func (c *Colormap) textColor(t float64) string {
	v := c.rgb(t)
	lum := 0.2126*float64(v[0]) + 0.7152*float64(v[1]) + 0.0722*float64(v[2])
	if lum < 140 {
		return "#ffffff"
	}
	return "#000000"
}
