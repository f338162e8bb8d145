// Tutorial 5, collecting activations: the residual stream after block 5 and
// the attention output of block 10 (of GPT-2 small; the same depths in
// other models), at every position, with Collect interventions.
//
//	go run ./tutorials/collect [-model gpt2]
package main

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/tutorials/internal/tut"
)

type result struct {
	Keys      []string
	Collected map[string]*tensors.Tensor
	Prompt    lm.Prompt
	Layers    [2]int
}

func run(m models.Model, o tut.Out) (*result, error) {
	w := o.W
	p := m.Encode("The Eiffel Tower is in the city of")
	l5, l10 := tut.Layer(m, 5), tut.Layer(m, 10)
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: l5, Component: lm.BlockOutput, InterventionType: pv.Collect},
		{Layer: l10, Component: lm.AttentionOutput, InterventionType: pv.Collect},
	}})
	if err != nil {
		return nil, err
	}
	out, err := iv.Forward([]lm.Prompt{p}) // no locations: every position
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "model: %s\nprompt %s (%d tokens)\n", m, p, p.Len())
	for _, k := range iv.Keys() {
		fmt.Fprintf(w, "%-52s %v\n", k, out.Collected[k].Shape())
	}
	return &result{Keys: iv.Keys(), Collected: out.Collected, Prompt: p, Layers: [2]int{l5, l10}}, nil
}

func main() {
	tut.Main("collect", tut.Result(run))
}
