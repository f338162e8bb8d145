// Tutorial 1, basic activation patching: the residual stream after block 8
// (of GPT-2 small; the same depth in other models) at the last token is
// taken from "The Eiffel Tower is in the city of" and patched into "The
// Colosseum is in the city of". Before, the model says Rome; after, Paris.
//
//	go run ./tutorials/patching [-model gpt2] [-out folder]
package main

import (
	"fmt"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/tutorials/internal/tut"
)

// result is what the tutorial shows, for its test.
type result struct {
	Layer                   int
	RomeBefore, ParisBefore float64
	RomeAfter, ParisAfter   float64
	Before, After           []float32
}

func run(m models.Model, o tut.Out) (*result, error) {
	w := o.W
	base := m.Encode("The Colosseum is in the city of")
	src := m.Encode("The Eiffel Tower is in the city of")
	layer := tut.Layer(m, 8)
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: layer, Component: lm.BlockOutput, InterventionType: pv.Vanilla},
	}})
	if err != nil {
		return nil, err
	}
	out, err := iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.At(src.Last(), base.Last()), pv.WithOriginal())
	if err != nil {
		return nil, err
	}
	before, err := out.NextTokenProbs(0, true)
	if err != nil {
		return nil, err
	}
	after, err := out.NextTokenProbs(0, false)
	if err != nil {
		return nil, err
	}
	rome, err := tut.TokenID(m, " Rome")
	if err != nil {
		return nil, err
	}
	paris, err := tut.TokenID(m, " Paris")
	if err != nil {
		return nil, err
	}
	r := &result{Layer: layer, RomeBefore: float64(before[rome]), ParisBefore: float64(before[paris]),
		RomeAfter: float64(after[rome]), ParisAfter: float64(after[paris]), Before: before, After: after}
	fmt.Fprintf(w, "model: %s\n", m)
	fmt.Fprintf(w, "patching block_output at layer %d, last token (%q) -> (%q)\n", layer, src.Tokens[src.Last()], base.Tokens[base.Last()])
	fmt.Fprintf(w, "before: P(Rome) = %.4f  P(Paris) = %.4f\n", r.RomeBefore, r.ParisBefore)
	fmt.Fprintf(w, "after:  P(Rome) = %.4f  P(Paris) = %.4f\n", r.RomeAfter, r.ParisAfter)
	table, err := plots.CompareVectors(fmt.Sprintf("%q: block_output L%d patched from %q", base.Text, layer, src.Text),
		before, after, m.TokenString, 5, plots.CompareOptions{BeforeLabel: "clean", AfterLabel: "patched"}, " Rome", " Paris")
	if err != nil {
		return nil, err
	}
	return r, o.Show(table, "patching.html")
}

func main() {
	tut.Main("patching", tut.Result(run))
}
