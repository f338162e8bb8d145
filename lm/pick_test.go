package lm

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestTopIndicesEqualsStableSort checks the top-k selection against the
// stable sort it replaces, ties included.
func TestTopIndicesEqualsStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ n, k, levels int }{{50, 5, 1000}, {1000, 40, 7}, {10, 10, 3}, {300, 1, 2}} {
		probs := make([]float32, c.n)
		for i := range probs {
			probs[i] = float32(rng.IntN(c.levels)) // many ties with few levels
		}
		idx := make([]int, c.n)
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
		got := topIndices(c.n, c.k, func(a, b int) bool { return probs[a] > probs[b] || (probs[a] == probs[b] && a < b) })
		if !slices.Equal(got, idx[:c.k]) {
			t.Errorf("n=%d k=%d: %v, stable sort %v", c.n, c.k, got, idx[:c.k])
		}
	}
}
