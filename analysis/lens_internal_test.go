package analysis

import (
	"fmt"
	"slices"
	"testing"

	"github.com/govene/govene/lm"
)

// TestTopTokens checks topTokens against lm.TopK, ties and k at the edges
// included.
func TestTopTokens(t *testing.T) {
	probs := []float32{0.1, 0.3, 0.1, 0.3, 0.05, 0.15, 0, 0}
	label := func(id int) string { return fmt.Sprint("t", id) }
	for _, k := range []int{-1, 0, 1, 2, 3, 4, 7, 8, 20} {
		got, want := topTokens(probs, k, label), lm.TopK(probs, k, label)
		if !slices.Equal(got, want) {
			t.Errorf("k %d: %v, want %v", k, got, want)
		}
	}
}
