package analysis

import (
	"encoding/json"
	"math"
	"testing"
)

// TestPearson checks the correlation on hand-computed cases.
func TestPearson(t *testing.T) {
	for _, tc := range []struct {
		name string
		x, y []float64
		want float64
	}{
		{"identical", []float64{1, 2, 3}, []float64{1, 2, 3}, 1},
		{"scaled and shifted", []float64{1, 2, 3}, []float64{10, 30, 50}, 1},
		{"reversed", []float64{1, 2, 3}, []float64{3, 2, 1}, -1},
		{"uncorrelated", []float64{1, -1, 1, -1}, []float64{1, 1, -1, -1}, 0},
		{"partial", []float64{1, 2, 3, 4}, []float64{1, 3, 2, 4}, 0.8},
		{"constant", []float64{1, 1, 1}, []float64{1, 2, 3}, math.NaN()},
		{"lengths", []float64{1, 2}, []float64{1, 2, 3}, math.NaN()},
		{"one value", []float64{1}, []float64{1}, math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Pearson(tc.x, tc.y)
			if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.want) > 1e-12) {
				t.Errorf("Pearson = %g, want %g", got, tc.want)
			}
		})
	}
}

// TestTopKOverlap checks the overlap of the largest magnitudes.
func TestTopKOverlap(t *testing.T) {
	for _, tc := range []struct {
		name string
		x, y []float64
		k    int
		want float64
	}{
		{"same order", []float64{5, -4, 3, 0}, []float64{50, -40, 30, 0}, 2, 1},
		{"magnitudes, not signs", []float64{-5, 4, 0.1, 0}, []float64{5, -4, 0, 0.1}, 2, 1},
		{"half", []float64{5, 4, 3, 0}, []float64{5, 0, 3, 4}, 2, 0.5},
		{"none", []float64{5, 4, 0, 0}, []float64{0, 0, 5, 4}, 2, 0},
		{"k capped", []float64{1, 2}, []float64{2, 1}, 5, 1},
		{"k zero", []float64{1, 2}, []float64{2, 1}, 0, 0},
		{"lengths", []float64{1, 2}, []float64{2}, 1, math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := TopKOverlap(tc.x, tc.y, tc.k)
			if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && got != tc.want) {
				t.Errorf("TopKOverlap = %g, want %g", got, tc.want)
			}
		})
	}
}

// TestAgree checks that agree flattens grids, caps k and marks an
// undefined correlation without a NaN, which JSON cannot hold.
func TestAgree(t *testing.T) {
	for _, tc := range []struct {
		name       string
		est, exact [][]float64
		k          int
		want       Agreement
	}{
		{"correlated", [][]float64{{1, 2}, {3, 4}}, [][]float64{{2, 4}, {6, 8}}, 10, Agreement{Pearson: 1, TopK: 4, TopKOverlap: 1}},
		{"constant", [][]float64{{0, 0}, {0, 0}}, [][]float64{{2, 4}, {6, 8}}, 1, Agreement{Undefined: true, TopK: 1, TopKOverlap: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := agree(tc.est, tc.exact, tc.k)
			if math.Abs(g.Pearson-tc.want.Pearson) > 1e-12 || g.Undefined != tc.want.Undefined || g.TopK != tc.want.TopK || g.TopKOverlap != tc.want.TopKOverlap {
				t.Errorf("agree = %+v, want %+v", g, tc.want)
			}
			if _, err := json.Marshal(g); err != nil {
				t.Errorf("json: %v", err)
			}
		})
	}
}
