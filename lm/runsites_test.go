package lm_test

import (
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
)

// RunSites gives the same site values as Run, without logits when every
// site is in a block below the last, and is Run with a global site.
func TestRunSites(t *testing.T) {
	cfg := gpt2.DefaultConfig()
	cfg.NLayer, cfg.NHead, cfg.NEmbd, cfg.NPositions, cfg.VocabSize = 4, 2, 16, 32, 64
	m, err := gpt2.Random(cfg, 5, gpt2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := lm.NewRunner(m, 0)
	prompts := []lm.Prompt{{IDs: []int{1, 2, 3, 4}}, {IDs: []int{5, 6}}}
	for _, tc := range []struct {
		name       string
		sites      []lm.Site
		wantLogits bool
	}{
		{"block 1", []lm.Site{{Layer: 1, Component: lm.BlockOutput}}, false},
		{"blocks 0 and 2, heads", []lm.Site{{Layer: 0, Component: lm.MLPOutput}, {Layer: 2, Component: lm.HeadValueOutput}}, false},
		{"the last block", []lm.Site{{Layer: 3, Component: lm.BlockOutput}}, true},
		{"a global site", []lm.Site{{Layer: 1, Component: lm.BlockOutput}, {Layer: -1, Component: lm.LNFinal}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full, err := r.Run(prompts, tc.sites...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.RunSites(prompts, tc.sites...)
			if err != nil {
				t.Fatal(err)
			}
			if (got.Logits != nil) != tc.wantLogits {
				t.Errorf("logits returned: %v, want %v", got.Logits != nil, tc.wantLogits)
			}
			for _, s := range tc.sites {
				a, b := flat(t, full.Sites[s]), flat(t, got.Sites[s])
				if len(a) == 0 || !slices.Equal(a, b) {
					t.Errorf("%s: RunSites gives %d values, Run %d; or they differ", s, len(b), len(a))
				}
			}
		})
	}
	if _, err := r.RunSites(prompts, lm.Site{Layer: 9, Component: lm.BlockOutput}); err == nil {
		t.Error("RunSites at layer 9 of 4: no error")
	}
}

func flat(t *testing.T, x *tensors.Tensor) []float32 {
	t.Helper()
	if x == nil {
		return nil
	}
	v, err := tensors.CopyFlatData[float32](x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
