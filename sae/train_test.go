package sae

import (
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/shipped"
	"github.com/govene/govene/shipped/facts"
)

var (
	shippedOnce   sync.Once
	shippedModel  *gpt2.Model
	shippedErr    error
	shippedPrompt []lm.Prompt
)

// shippedData loads the shipped model once and returns it with ~200 short
// prompts built from the facts it was taught.
func shippedData(t testing.TB) (*gpt2.Model, []lm.Prompt) {
	t.Helper()
	shippedOnce.Do(func() {
		shippedModel, shippedErr = shipped.Load(gpt2.Options{})
		if shippedErr != nil {
			return
		}
		var texts []string
		for _, f := range facts.Landmarks {
			texts = append(texts, f.Name+" is in the city of "+f.City, f.Name+" is a famous place")
		}
		for _, c := range facts.Countries {
			texts = append(texts, fmt.Sprintf("The capital of %s is %s", c.Country, c.Capital),
				fmt.Sprintf("%s is the capital of %s", c.Capital, c.Country))
			if c.Language != "" {
				texts = append(texts, fmt.Sprintf("People in %s speak %s", c.Country, c.Language))
			}
		}
		for i, n := range facts.Names {
			texts = append(texts, fmt.Sprintf("%s felt %s today", n, facts.HappyWords[i%len(facts.HappyWords)]),
				fmt.Sprintf("%s was %s all day", n, facts.SadWords[i%len(facts.SadWords)]))
		}
		for _, s := range texts {
			shippedPrompt = append(shippedPrompt, shippedModel.Encode(s))
		}
	})
	if shippedErr != nil {
		t.Fatal(shippedErr)
	}
	return shippedModel, shippedPrompt
}

var block4 = lm.Site{Layer: 4, Component: lm.BlockOutput}

func TestTrainExplore(t *testing.T) {
	m, prompts := shippedData(t)
	t.Logf("%d prompts", len(prompts))
	for _, cfg := range []TrainConfig{
		{Architecture: ArchStandard, DSAE: 256, Steps: 300, BatchSize: 512, L1Coefficient: 1, SkipFirstToken: true},
		{Architecture: ArchStandard, DSAE: 256, Steps: 300, BatchSize: 512, L1Coefficient: 5, SkipFirstToken: true, NormalizeActivations: NormExpectedAverage},
		{Architecture: ArchJumpReLU, DSAE: 256, Steps: 300, BatchSize: 512, L0Coefficient: 1, SkipFirstToken: true},
		{Architecture: ArchJumpReLU, DSAE: 256, Steps: 300, BatchSize: 512, L0Coefficient: 0.1, SkipFirstToken: true, NormalizeActivations: NormExpectedAverage},
	} {
		cfg.Adam.LR = 4e-3
		cfg.Progress = io.Discard
		s, rep, err := Train(m, block4, prompts, cfg)
		if err != nil {
			t.Fatal(err)
		}
		first, last := rep.Logs[0], rep.Logs[len(rep.Logs)-1]
		t.Logf("%s tokens %d first %+v\nlast %+v\nfinal %+v dur %v hook %s", s.Architecture, rep.Tokens, first, last, rep.Final, rep.Duration, s.HookName)
	}
}
