package facts

import (
	"math"

	"github.com/govene/govene"
)

// The shipped model's shape (package shipped's DefaultModel): 8 layers
// (blocks), 4 heads, a hidden size of 128 and 64 positions, with GPT-2's
// vocabulary.
const (
	Layers    = 8
	Heads     = 4
	Hidden    = 128
	Positions = 64
)

// MoveLayer is the first block of the shipped model after which the last
// token of "The Eiffel Tower is in the city of" holds the city: patching
// its block_output there into "The Colosseum is in the city of" flips the
// answer to Paris, at every earlier block it does not (measured by
// TestPatchingFlipsCityFromTheMiddle in shipped/internal/retrain; see
// model/TRAINING.md).
const MoveLayer = 5

// gpt2SmallMove is the layer of GPT-2 small at whose output the tutorials
// read the city at the last token (the DAS tutorial's block 6).
const gpt2SmallMove = 6

// Layer maps a layer of GPT-2 small (0-11), as the tutorials' texts name
// them, to the block of the shipped model with the same role: GPT-2 small's
// layers 0-6 (the subject's layers, up to the one where the fact has reached
// the last token) map linearly onto blocks 0-MoveLayer, and layers 6-11
// onto blocks MoveLayer to the last. A layer outside 0-11 is clamped to
// that range first.
func Layer(gpt2Small int) int {
	g := float64(min(max(gpt2Small, 0), 11))
	last := Layers - 1
	if g <= gpt2SmallMove {
		return int(g*MoveLayer/gpt2SmallMove + 0.5)
	}
	return MoveLayer + int((g-gpt2SmallMove)*float64(last-MoveLayer)/(11-gpt2SmallMove)+0.5)
}

// LayerFor maps a layer of GPT-2 small (0-11) to the block with the same
// role in a model of sizes d: the layer itself for a 12-layer model, Layer
// for a model shaped like the shipped one (Layers blocks of width Hidden),
// else the same relative depth. The result is always a valid block (0 for
// a model without layers); a layer outside 0-11 is clamped first.
func LayerFor(d govene.Dims, gpt2Small int) int {
	n := d.Layers
	switch {
	case n <= 0:
		return 0
	case n == 12:
		return min(max(gpt2Small, 0), 11)
	case n == Layers && d.Hidden == Hidden:
		return Layer(gpt2Small)
	}
	return min(n-1, max(0, int(math.Round(float64(gpt2Small*n)/12))))
}
