package gpt2_test

import (
	"fmt"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
)

// A model's hook sites are read with Run: here, the residual stream after
// block 1 and the attention pattern of block 0, for two prompts of different
// lengths in one left-padded batch.
func ExampleModel_Run() {
	cfg := gpt2.DefaultConfig()
	cfg.NLayer, cfg.NHead, cfg.NEmbd = 2, 4, 32
	m, err := gpt2.Random(cfg, 1, gpt2.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	prompts := []lm.Prompt{
		m.Encode("The Eiffel Tower is in the city of"),
		m.Encode("Hello world"),
	}
	fmt.Println(prompts[0])
	resid := lm.Site{Layer: 1, Component: lm.BlockOutput}
	pattern := lm.Site{Layer: 0, Component: lm.AttentionWeight}
	r, err := m.Run(prompts, resid, pattern)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resid, r.Sites[resid].Shape())
	fmt.Println(pattern, r.Sites[pattern].Shape())
	fmt.Println("logits", r.Logits.Shape())
	_, shape, _ := r.Row(r.Sites[resid], 1, false) // the second prompt, padding removed
	fmt.Println("second prompt's residual", shape)

	_, err = m.Run(prompts, lm.Site{Layer: 2, Component: lm.BlockOutput})
	fmt.Println(err)
	// Output:
	// "The| E|iff|el| Tower| is| in| the| city| of"
	// blocks.1.block_output (Float32)[2, 10, 32]
	// blocks.0.attention_weight (Float32)[2, 4, 10, 10]
	// logits (Float32)[2, 10, 50257]
	// second prompt's residual [2 32]
	// gpt2: lm: site blocks.2.block_output: layer 2 out of range [0, 2)
}
