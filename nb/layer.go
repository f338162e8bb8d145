package nb

import (
	"github.com/govene/govene"
	"github.com/govene/govene/shipped/facts"
)

// Layer maps a layer of GPT-2 small (0-11), as the tutorials' texts name
// them, to the block of m with the same role (facts.LayerFor): the layer
// itself for a 12-layer model, the shipped model's own mapping for a model
// shaped like it, else the same relative depth. m is anything with Dims: a
// loaded models.Model, or a govene.Model of an engine or a session. The
// result is always a valid block of m (0 for a model without layers).
func Layer(m interface{ Dims() govene.Dims }, gpt2Small int) int {
	return facts.LayerFor(m.Dims(), gpt2Small)
}
