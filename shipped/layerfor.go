package shipped

import (
	"math"

	"github.com/govene/govene/lm"
)

// LayerFor maps a layer of GPT-2 small (0-11), as the tutorials' texts name
// them, to the block of m with the same role: the layer itself for a
// 12-layer model, Layer's mapping for a model shaped like the shipped one
// (the fact reaches the last token at MoveLayer there, not at the same
// relative depth), and the same relative depth for any other model. The
// result is always a valid block of m (0 for a model without layers).
func LayerFor(m lm.Model, gpt2Small int) int {
	n := m.Dims().Layers
	switch {
	case n <= 0:
		return 0
	case n == 12:
		return min(max(gpt2Small, 0), 11)
	}
	if c := DefaultModel(); n == c.NLayer && m.Dims().Hidden == c.NEmbd {
		return Layer(gpt2Small)
	}
	return min(n-1, max(0, int(math.Round(float64(gpt2Small*n)/12))))
}
