package shipped

import (
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/shipped/facts"
)

// DefaultModel is the shipped model's architecture: 8 layers, 4 heads,
// d=128, 64 positions (facts.Layers, Heads, Hidden, Positions), GPT-2's
// vocabulary.
func DefaultModel() gpt2.Config {
	c := gpt2.DefaultConfig()
	c.NLayer, c.NHead, c.NEmbd, c.NPositions = facts.Layers, facts.Heads, facts.Hidden, facts.Positions
	return c
}
