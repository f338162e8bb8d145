package shipped

import "github.com/govene/govene/gpt2"

// DefaultModel is the shipped model's architecture: 8 layers, 4 heads,
// d=128, 64 positions, GPT-2's vocabulary.
func DefaultModel() gpt2.Config {
	c := gpt2.DefaultConfig()
	c.NLayer, c.NHead, c.NEmbd, c.NPositions = 8, 4, 128, 64
	return c
}
