package shipped

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
	last := DefaultModel().NLayer - 1
	if g <= gpt2SmallMove {
		return int(g*MoveLayer/gpt2SmallMove + 0.5)
	}
	return MoveLayer + int((g-gpt2SmallMove)*float64(last-MoveLayer)/(11-gpt2SmallMove)+0.5)
}
