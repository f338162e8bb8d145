package llama_test

import (
	"fmt"

	"github.com/govene/govene/causal"
	"github.com/govene/govene/llama"
	"github.com/govene/govene/lm"
)

// A small random Llama with grouped-query attention: its sites and one
// forward pass with the value of a key head captured.
func ExampleRandom() {
	cfg := llama.DefaultConfig("llama")
	cfg.VocabSize, cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHiddenLayers = 100, 32, 64, 2
	cfg.NumAttentionHeads, cfg.NumKeyValueHeads = 4, 2
	m, err := llama.Random(cfg, 1, causal.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Arch())
	site := lm.Site{Layer: 1, Component: lm.HeadKeyOutput}
	r, err := m.Run([]lm.Prompt{{IDs: []int{1, 7, 42, 9}}}, site)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("logits", r.Logits.Shape().Dimensions, "keys", r.Sites[site].Shape().Dimensions)
	_, err = m.Run([]lm.Prompt{{IDs: []int{1}}}, lm.Site{Layer: -1, Component: lm.PosEmbed})
	fmt.Println(err != nil)
	// Output:
	// Llama 2 layers, 4 heads (2 kv), d=32, vocab 100
	// logits [1 4 100] keys [1 2 4 8]
	// true
}
