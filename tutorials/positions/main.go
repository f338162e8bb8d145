// Tutorial 4, position-specific interventions: names from "Alice and Bob
// went to the store. Alice gave a drink to" are patched into "John and Mary
// went to the store. John gave a drink to", first at one position (Mary's),
// then at several (every name), at the residual stream entering block 0 (the embeddings). The
// prediction follows the names that were patched in.
//
//	go run ./tutorials/positions [-model gpt2] [-out folder]
package main

import (
	"fmt"
	"strings"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/tutorials/internal/tut"
)

type result struct {
	Clean, One, Several []float32 // next-token probabilities
	Mary, Bob           int       // token ids
}

func run(m models.Model, o tut.Out) (*result, error) {
	w := o.W
	base := m.Encode("John and Mary went to the store. John gave a drink to")
	src := m.Encode("Alice and Bob went to the store. Alice gave a drink to")
	if base.Len() != src.Len() {
		return nil, fmt.Errorf("positions: the prompts tokenize to %d and %d tokens; this tutorial needs equal lengths", base.Len(), src.Len())
	}
	names := []int{}
	for i, t := range base.Tokens {
		// A word's token is " John" for GPT-2's tokenizer, "▁John" for
		// SentencePiece-style ones.
		if n := strings.TrimLeft(t, " ▁"); n == "John" || n == "Mary" {
			names = append(names, i)
		}
	}
	if len(names) != 3 {
		return nil, fmt.Errorf("positions: found the names John, Mary, John at tokens %v of %s; this tutorial needs them as three tokens", names, base)
	}
	mary := names[1]
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: 0, Component: lm.BlockInput, MaxNumberOfUnits: len(names)},
	}})
	if err != nil {
		return nil, err
	}
	one, err := iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.At(mary, mary), pv.WithOriginal())
	if err != nil {
		return nil, err
	}
	several, err := iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.AtUnits(names...))
	if err != nil {
		return nil, err
	}
	r := &result{}
	if r.Clean, err = one.NextTokenProbs(0, true); err != nil {
		return nil, err
	}
	if r.One, err = one.NextTokenProbs(0, false); err != nil {
		return nil, err
	}
	if r.Several, err = several.NextTokenProbs(0, false); err != nil {
		return nil, err
	}
	if r.Mary, err = tut.TokenID(m, " Mary"); err != nil {
		return nil, err
	}
	if r.Bob, err = tut.TokenID(m, " Bob"); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "model: %s\nbase %s\nsource %s\n", m, base, src)
	show := func(what string, p []float32) {
		fmt.Fprintf(w, "%-34s P(Mary) %.4f  P(Bob) %.4f  top %q\n", what, p[r.Mary], p[r.Bob], lm.TopK(p, 1, m.TokenString)[0].Token)
	}
	show("clean", r.Clean)
	show(fmt.Sprintf("patched at position %d (%q)", mary, base.Tokens[mary]), r.One)
	show(fmt.Sprintf("patched at positions %v", names), r.Several)
	for i, c := range []struct {
		name string
		p    []float32
	}{{"one position", r.One}, {"several positions", r.Several}} {
		t, err := plots.CompareVectors("block_input L0 patched at "+c.name, r.Clean, c.p, m.TokenString, 5,
			plots.CompareOptions{BeforeLabel: "clean", AfterLabel: "patched"}, " Mary", " Bob")
		if err != nil {
			return nil, err
		}
		if err := o.Show(t, fmt.Sprintf("positions-%d.html", i)); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func main() {
	tut.Main("positions", tut.Result(run))
}
