package plots

import "math"

// This file holds what the hand-drawn charts with numeric axes (Bars,
// Scatter) share: value ranges and tick marks.

// finiteRange returns the smallest and largest finite values of vals
// (ok false when there are none).
func finiteRange(vals ...[]float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, vs := range vals {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi, lo <= hi
}

// axisRange widens [lo, hi] to a range an axis can show: 5% padding on
// each side, and a unit range around a single value.
func axisRange(lo, hi float64) (float64, float64) {
	if hi <= lo {
		return lo - 1, hi + 1
	}
	pad := (hi - lo) * 0.05
	return lo - pad, hi + pad
}

// tick is a labelled value on an axis.
type tick struct {
	v     float64
	label string
}

// axisTicks returns the labelled ticks between lo and hi: multiples of a
// round step (1, 2 or 5 times a power of ten), about six of them, as
// LineChart's axes have.
func axisTicks(lo, hi float64) []tick {
	var out []tick
	for _, t := range (linearTicks{}).Ticks(lo, hi) {
		if t.Label != "" {
			out = append(out, tick{t.Value, t.Label})
		}
	}
	return out
}

// axisMap maps [lo, hi] linearly onto the pixels [p0, p1].
type axisMap struct{ lo, hi, p0, p1 float64 }

func (a axisMap) at(v float64) float64 {
	if a.hi <= a.lo {
		return (a.p0 + a.p1) / 2
	}
	return a.p0 + (v-a.lo)/(a.hi-a.lo)*(a.p1-a.p0)
}
