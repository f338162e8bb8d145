package analysis

import (
	"cmp"
	"math"
	"slices"
)

// Agreement compares attribution patching's estimates with exact
// patching's values over one grid.
type Agreement struct {
	// Pearson is the correlation of the estimates with the exact values
	// over every cell; 0, with Undefined set, when either grid is
	// constant (JSON has no NaN).
	Pearson   float64 `json:"pearson"`
	Undefined bool    `json:"pearson_undefined,omitempty"`
	// TopK is the k of TopKOverlap (at most the number of cells).
	TopK int `json:"top_k"`
	// TopKOverlap is the fraction of the k cells with the largest exact
	// |value| that are also among the k with the largest estimated
	// |value|.
	TopKOverlap float64 `json:"top_k_overlap"`
}

// agree returns the agreement of grids est and exact (same shape) with
// top-k overlap for k (capped at the number of cells).
func agree(est, exact [][]float64, k int) Agreement {
	var x, y []float64
	for r := range est {
		x = append(x, est[r]...)
		y = append(y, exact[r]...)
	}
	k = min(k, len(x))
	a := Agreement{Pearson: Pearson(x, y), TopK: k, TopKOverlap: TopKOverlap(x, y, k)}
	if math.IsNaN(a.Pearson) {
		a.Pearson, a.Undefined = 0, true
	}
	return a
}

// Pearson returns the Pearson correlation of x and y; NaN when they
// differ in length, have fewer than two values, or either is constant.
func Pearson(x, y []float64) float64 {
	n := len(x)
	if n != len(y) || n < 2 {
		return math.NaN()
	}
	var mx, my float64
	for i := range n {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx, syy float64
	for i := range n {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// TopKOverlap returns the fraction of the k indices with the largest |y|
// that are among the k with the largest |x| (ties broken by index); 0 for
// k <= 0, and k is capped at the length. x and y of different lengths
// give NaN.
func TopKOverlap(x, y []float64, k int) float64 {
	if len(x) != len(y) {
		return math.NaN()
	}
	k = min(k, len(x))
	if k <= 0 {
		return 0
	}
	top := func(v []float64) []int {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(math.Abs(v[b]), math.Abs(v[a])) })
		return idx[:k]
	}
	tx := top(x)
	shared := 0
	for _, i := range top(y) {
		if slices.Contains(tx, i) {
			shared++
		}
	}
	return float64(shared) / float64(k)
}
