// Tutorial 6, generation with interventions: a happy-minus-sad direction is
// taken from the MLP output of block 6 (of GPT-2 small; the same depth in
// other models), averaged over happy and sad sentences, and added to that
// site at every position of the prompt and of every new token while
// sampling. Steered and unsteered continuations are shown side by side.
//
//	go run ./tutorials/steering [-model gpt2]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/tutorials/internal/tut"
)

type result struct {
	Prompts            []string
	Steered, Unsteered []string
}

var (
	happy = []string{"I am so happy and joyful today", "What a wonderful and delightful day", "I feel great, cheerful and glad"}
	sad   = []string{"I am so sad and miserable today", "What a terrible and gloomy day", "I feel awful, unhappy and down"}
)

// meanSite averages the site's value over every token of the prompts.
func meanSite(m *gpt2.Model, texts []string, site lm.Site) ([]float32, error) {
	var ps []lm.Prompt
	for _, t := range texts {
		ps = append(ps, m.Encode(t))
	}
	r, err := m.Run(ps, site)
	if err != nil {
		return nil, err
	}
	d := m.Dims().Hidden
	mean := make([]float32, d)
	n := 0
	for e := range ps {
		v, _, err := r.Row(r.Sites[site], e, false)
		if err != nil {
			return nil, err
		}
		for i, x := range v {
			mean[i%d] += x
		}
		n += len(v) / d
	}
	for i := range mean {
		mean[i] /= float32(n)
	}
	return mean, nil
}

// untilEOS cuts ids at the first end-of-text token.
func untilEOS(ids []int, eos int) []int {
	for i, id := range ids {
		if id == eos {
			return ids[:i]
		}
	}
	return ids
}

func run(m *gpt2.Model, w io.Writer, scale float64) (*result, error) {
	site := lm.Site{Layer: tut.Layer(m, 6), Component: lm.MLPOutput}
	h, err := meanSite(m, happy, site)
	if err != nil {
		return nil, err
	}
	s, err := meanSite(m, sad, site)
	if err != nil {
		return nil, err
	}
	dir := make([]float32, len(h))
	for i := range dir {
		dir[i] = float32(scale) * (h[i] - s[i])
	}
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: site.Layer, Component: site.Component, InterventionType: pv.Addition, SourceRepresentation: dir},
	}})
	if err != nil {
		return nil, err
	}
	r := &result{Prompts: []string{"Today I feel", "My day was", "I think that"}}
	var ps []lm.Prompt
	for _, p := range r.Prompts {
		ps = append(ps, m.Encode(p))
	}
	gen, err := iv.Generate(ps, pv.GenerateOptions{
		Sampling:          lm.Sampling{MaxNewTokens: 12, Temperature: 0.8, TopK: 40, Seed: 7, StopAtEOS: true},
		InterveneOnPrompt: true, EveryStep: true,
	}, pv.WithOriginal())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "model: %s\nsteering: %s %+.1f x (happy - sad)\n", m, site, scale)
	table := &plots.TextTable{Title: fmt.Sprintf("Steering: %s + %.1f x (happy - sad)", site, scale), Header: []string{"prompt", "unsteered", "steered"}}
	for i, p := range r.Prompts {
		st, _ := m.Tokenizer().Decode(untilEOS(gen.NewTokens[i], m.Tokenizer().EOT()))
		un, _ := m.Tokenizer().Decode(untilEOS(gen.OriginalNewTokens[i], m.Tokenizer().EOT()))
		r.Steered, r.Unsteered = append(r.Steered, st), append(r.Unsteered, un)
		fmt.Fprintf(w, "%q\n  unsteered: %q\n  steered:   %q\n", p, un, st)
		table.Rows = append(table.Rows, []string{p, un, st})
	}
	return r, tut.Show(w, table, "steering.html")
}

func main() {
	scale := flag.Float64("scale", 4, "how many times the happy-minus-sad difference to add")
	tut.Main("steering", func(m *gpt2.Model) error {
		_, err := run(m, os.Stdout, *scale)
		return err
	})
}
