package engine_test

import (
	"fmt"

	"github.com/govene/govene"
	"github.com/govene/govene/engine"
)

// Activation patching through the Engine interface: the same code runs in
// a session with session.Connect in place of engine.New.
func Example() {
	var e govene.Engine
	e, err := engine.New(engine.Options{Backend: "go"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	m, err := e.Model("shipped")
	if err != nil {
		fmt.Println(err)
		return
	}
	base, _ := m.Encode("The Colosseum is in the city of")
	src, _ := m.Encode("The Eiffel Tower is in the city of")
	iv, err := m.New(govene.Config{Representations: []govene.RepresentationConfig{
		{Layer: 6, Component: govene.BlockOutput, InterventionType: govene.Vanilla}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := iv.Forward([]govene.Prompt{base}, govene.Sources(src), govene.At(src.Last(), base.Last()), govene.WithOriginal())
	if err != nil {
		fmt.Println(err)
		return
	}
	before, _ := out.NextTokenProbs(0, true)
	after, _ := out.NextTokenProbs(0, false)
	paris, _ := m.TokenID(" Paris")
	fmt.Println("intervention:", iv.Keys()[0])
	fmt.Println("logits:", out.Logits.Shape)
	fmt.Printf("P(Paris): %.2f -> %.2f\n", before[paris], after[paris])
	top := govene.TopK(after, 1, func(id int) string { t, _ := m.Tokens([]int{id}); return t[0] })
	fmt.Printf("top after patching: %q\n", top[0].Token)
	// Output:
	// intervention: layer_6_comp_block_output_unit_pos_nunit_1#0
	// logits: [1 10 50257]
	// P(Paris): 0.00 -> 0.99
	// top after patching: " Paris"
}
