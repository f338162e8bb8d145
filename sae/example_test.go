package sae_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/sae"
)

// An SAE saved in SAELens' format, loaded back, read per token, and
// spliced into a model to measure what its reconstruction costs.
func Example() {
	m, err := models.Load(filepath.Join("..", "gpt2", "testdata", "odd"), models.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "sae")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	// A perfect SAE of layer 1's residual stream: relu(x) - relu(-x) = x.
	if err := identitySAE(m.Dims().Hidden, "blocks.1.hook_resid_pre").Save(filepath.Join(dir, "sae")); err != nil {
		fmt.Println(err)
		return
	}
	s, err := sae.Load(filepath.Join(dir, "sae"), sae.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	site, _ := s.Site()
	fmt.Println("site:", site, "d_sae:", s.DSAE)

	ps := []lm.Prompt{{IDs: []int{5, 17, 42, 99}}, {IDs: []int{11, 250, 7}}}
	acts, err := sae.FeatureActivations(m, s, ps)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("features at prompt 0, token 1:", len(acts.Top(0, 1, 3)))

	met, err := sae.Reconstruction(m, s, ps)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("CE increase %.4f, KL %.4f, explained variance %.4f, L0 %.0f of %d\n",
		math.Abs(met.CEIncrease), math.Abs(met.KLWithSAE), met.ExplainedVariance, met.L0, s.DSAE)
	// Output:
	// site: blocks.1.block_input d_sae: 48
	// features at prompt 0, token 1: 3
	// CE increase 0.0000, KL 0.0000, explained variance 1.0000, L0 24 of 48
}
