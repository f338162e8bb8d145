package sae_test

import (
	"fmt"
	"os"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/sae"
	"github.com/govene/govene/shipped"
	"github.com/govene/govene/train"
)

// Train a TopK SAE on the shipped model's residual stream after block 4,
// report how well it reconstructs, and save it in SAELens' format (a folder
// sae_lens.SAE.load_from_disk reads). A real run wants many more prompts
// than these.
func ExampleTrain() {
	m, err := shipped.Load(gpt2.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var prompts []lm.Prompt
	for _, s := range []string{"The Eiffel Tower is in the city of Paris", "The capital of Italy is Rome", "Mary felt happy today"} {
		prompts = append(prompts, m.Encode(s))
	}
	s, rep, err := sae.Train(m, lm.Site{Layer: 4, Component: lm.BlockOutput}, prompts, sae.TrainConfig{
		Architecture: sae.ArchTopK, DSAE: 512, K: 16, Steps: 1000, BatchSize: 1024,
		NormalizeActivations: sae.NormExpectedAverage, SkipFirstToken: true,
		Adam: train.Adam{LR: 4e-3}, Seed: 1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: explained variance %.3f, L0 %.1f over %d tokens\n", s.HookName, rep.Final.ExplainedVariance, rep.Final.L0, rep.Tokens)
	dir, err := os.MkdirTemp("", "sae")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := s.Save(dir); err != nil {
		fmt.Println(err)
	}
}
