package pv_test

import (
	"fmt"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// exampleModel is a small random GPT-2; real work loads a checkpoint with
// gpt2.Load("gpt2").
func exampleModel() *gpt2.Model {
	cfg := gpt2.DefaultConfig()
	cfg.NLayer, cfg.NHead, cfg.NEmbd = 12, 4, 32
	m, err := gpt2.Random(cfg, 1, gpt2.Options{})
	if err != nil {
		panic(err)
	}
	return m
}

// Activation patching (tutorial 1): the residual stream after block 8 at the
// last token, taken from a source prompt into a base prompt.
func Example_patching() {
	m := exampleModel()
	base := m.Encode("The Colosseum is in the city of")
	src := m.Encode("The Eiffel Tower is in the city of")
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: 8, Component: lm.BlockOutput, InterventionType: pv.Vanilla},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.At(src.Last(), base.Last()), pv.WithOriginal())
	if err != nil {
		fmt.Println(err)
		return
	}
	before, _ := out.NextTokenProbs(0, true)
	after, _ := out.NextTokenProbs(0, false)
	paris, _ := m.Tokenizer().ID(" Paris")
	fmt.Println("intervention:", iv.Keys()[0])
	fmt.Println("logits:", out.Logits.Shape())
	fmt.Println("P(Paris) changed:", before[paris] != after[paris])
	// Output:
	// intervention: layer_8_comp_block_output_unit_pos_nunit_1#0
	// logits: (Float32)[1, 10, 50257]
	// P(Paris) changed: true
}

// Position-specific patching (tutorial 4): one position, then several, with
// per-example locations; a sweep over positions compiles once.
func Example_positions() {
	m := exampleModel()
	base := m.Encode("John and Mary went to the store")
	src := m.Encode("Alice and Bob went to the store")
	iv, _ := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: 4, Component: lm.BlockOutput, MaxNumberOfUnits: 3},
	}})
	for pos := range base.Len() {
		if _, err := iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.At(pos, pos)); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("compiled graphs for", base.Len(), "positions:", iv.Compiles())
	_, err := iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.AtUnits(0, 2, 3))
	fmt.Println("three positions at once:", err == nil)
	_, err = iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.At(0, 9))
	fmt.Println(err)
	// Output:
	// compiled graphs for 7 positions: 1
	// three positions at once: true
	// pv: layer_4_comp_block_output_unit_pos_nunit_3#0: base example 0: position 9 out of range [0, 7)
}

// Collecting activations (tutorial 5): block_output at layer 5 and
// attention_output at layer 10, at every position.
func Example_collect() {
	m := exampleModel()
	p := m.Encode("The Space Needle is in downtown")
	iv, _ := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: 5, Component: lm.BlockOutput, InterventionType: pv.Collect},
		{Layer: 10, Component: lm.AttentionOutput, InterventionType: pv.Collect},
	}})
	out, err := iv.Forward([]lm.Prompt{p})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, k := range iv.Keys() {
		fmt.Println(k, out.Collected[k].Shape())
	}
	// Output:
	// layer_5_comp_block_output_unit_pos_nunit_1#0 (Float32)[1, 7, 32]
	// layer_10_comp_attention_output_unit_pos_nunit_1#0 (Float32)[1, 7, 32]
}

// Steering during generation (tutorial 6): add a direction to mlp_output at
// layer 6 at every position of the prompt and of every new token.
func Example_steering() {
	m := exampleModel()
	happy, sad := m.Encode("I am so happy and joyful"), m.Encode("I am so sad and miserable")
	r, err := m.Run([]lm.Prompt{happy, sad}, lm.Site{Layer: 6, Component: lm.MLPOutput})
	if err != nil {
		fmt.Println(err)
		return
	}
	h, _, _ := r.Row(r.Sites[lm.Site{Layer: 6, Component: lm.MLPOutput}], 0, false)
	s, _, _ := r.Row(r.Sites[lm.Site{Layer: 6, Component: lm.MLPOutput}], 1, false)
	d := 32
	dir := make([]float32, d)
	for i := range dir { // mean over positions of happy minus sad, scaled
		for j := range h[:len(h)/d] {
			dir[i] += 8 * (h[j*d+i] - s[j*d+i]) / float32(len(h)/d)
		}
	}
	iv, _ := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: 6, Component: lm.MLPOutput, InterventionType: pv.Addition, SourceRepresentation: dir},
	}})
	// Without locations, InterveneOnPrompt steers the prompt and every new
	// token, as pyvene does.
	gen, err := iv.Generate([]lm.Prompt{m.Encode("Today I feel")}, pv.GenerateOptions{
		Sampling: lm.Sampling{MaxNewTokens: 8}, InterveneOnPrompt: true,
	}, pv.WithOriginal())
	if err != nil {
		fmt.Println(err)
		return
	}
	// Tokens holds prompt + new tokens, as pyvene; NewTokens the new ones.
	fmt.Println("tokens:", len(gen.Tokens[0]), "new:", len(gen.NewTokens[0]), "unsteered new:", len(gen.OriginalNewTokens[0]))
	// Output:
	// tokens: 11 new: 8 unsteered new: 8
}
