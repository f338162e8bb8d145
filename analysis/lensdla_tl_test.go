package analysis

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/safetensors"
)

// lensTLCheckpoints maps the TransformerLens fixtures' checkpoints
// (testdata/<name>) to their model folders.
var lensTLCheckpoints = map[string]string{
	"gpt2-odd": filepath.Join("..", "gpt2", "testdata", "odd"),
	"llama":    filepath.Join("..", "models", "testdata", "llama"),
}

// lensTLCase is the part of a tl_cases.json case the cache, lens and DLA
// parity tests read.
type lensTLCase struct {
	Name   string              `json:"name"`
	Clean  [][]int             `json:"clean"`
	Target []int               `json:"target"`
	Other  []int               `json:"other"`
	Labels map[string][]string `json:"labels"`
}

// lensTLRel returns the largest |got - want| relative to want's largest
// magnitude.
func lensTLRel(got, want []float32) float64 {
	big, worst := 1e-30, 0.0
	for _, w := range want {
		big = math.Max(big, math.Abs(float64(w)))
	}
	for i := range want {
		worst = math.Max(worst, math.Abs(float64(got[i])-float64(want[i])))
	}
	return worst / big
}

// TestStacksLensDLAMatchTransformerLens checks the cache's stacks, the logit lens and direct logit
// attribution against TransformerLens 4.3.0 (fold_ln=True,
// center_writing_weights=False, center_unembed=False) on the fixtures of
// oracle/make_analysis_fixtures.py, within 1e-4 of each tensor's largest
// magnitude.
func TestStacksLensDLAMatchTransformerLens(t *testing.T) {
	for name, dir := range lensTLCheckpoints {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name, "tl_cases.json"))
			if err != nil {
				t.Fatal(err)
			}
			var summary struct {
				Cases []lensTLCase `json:"cases"`
			}
			if err := json.Unmarshal(raw, &summary); err != nil {
				t.Fatal(err)
			}
			ref, err := safetensors.Open(filepath.Join("testdata", name, "tl_reference.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			m, err := models.Load(dir, models.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(summary.Cases) == 0 {
				t.Fatal("no cases")
			}
			for _, tc := range summary.Cases {
				t.Run(tc.Name, func(t *testing.T) { lensTLCaseCheck(t, m, ref, tc) })
			}
		})
	}
}

// lensTLCaseCheck runs one fixture case.
func lensTLCaseCheck(t *testing.T, m models.Model, ref *safetensors.File, tc lensTLCase) {
	prompts := make([]lm.Prompt, len(tc.Clean))
	for i, ids := range tc.Clean {
		prompts[i] = lm.Prompt{IDs: ids}
	}
	c, err := RunWithCache(m, prompts)
	if err != nil {
		t.Fatal(err)
	}
	compare := func(what string, got []float32, key string) {
		t.Helper()
		want, _, err := ref.Float32(tc.Name + "/" + key)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d values, TransformerLens %s has %d", what, len(got), key, len(want))
			return
		}
		if d := lensTLRel(got, want); d > 1e-4 {
			t.Errorf("%s: relative difference %.3g from TransformerLens %s", what, d, key)
		}
	}
	compare("logits", c.Logits, "clean/logits")
	compare("ln_final_scale", c.Site(lm.Site{Layer: -1, Component: lm.LNFinalScale}), "clean/ln_final.hook_scale")

	stacks := []struct {
		key  string
		make func(applyLN bool) (*Stack, error)
	}{
		{"accumulated_resid", func(ln bool) (*Stack, error) { return c.AccumulatedResid(-1, true, ln) }},
		{"decompose_resid", func(ln bool) (*Stack, error) { return c.DecomposeResid(-1, ln) }},
		{"stack_head_results", func(ln bool) (*Stack, error) { return c.StackHeadResults(-1, false, ln) }},
	}
	raw := map[string]*Stack{}
	for _, s := range stacks {
		st, err := s.make(true)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(st.Labels, tc.Labels[s.key]) {
			t.Errorf("%s labels %v, TransformerLens %v", s.key, st.Labels, tc.Labels[s.key])
		}
		key := s.key
		if key == "accumulated_resid" {
			key = "accumulated_resid_cached_scale" // TL 4 recomputes the scale there
		}
		compare(s.key+"(applyLN)", st.Values, key)
		if raw[s.key], err = s.make(false); err != nil {
			t.Fatal(err)
		}
	}

	// Logit lens: TL 4's accumulated_resid(apply_ln=True) normalizes each
	// residual by its own scale (the default); the cached-scale lens is TL
	// 2/3's.
	b, s := c.Batch.Size, c.Batch.Len
	for _, own := range []bool{false, true} {
		key := map[bool]string{false: "lens_cached_scale", true: "lens"}[own]
		lens, err := LogitLens(m, c, LensConfig{Targets: tc.Target, InclMid: true, CachedScale: !own})
		if err != nil {
			t.Fatal(err)
		}
		var probs, ranks []float32
		for k := range lens.Labels {
			for i := range b {
				for _, cell := range lens.Cells[k][i] {
					probs = append(probs, cell.TargetProb)
					ranks = append(ranks, float32(cell.TargetRank))
				}
			}
		}
		compare(key+" target probability", probs, key+"/target_prob")
		want, _, err := ref.Float32(tc.Name + "/" + key + "/target_rank")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ranks, want) {
			t.Errorf("%s target ranks %v, TransformerLens %v", key, ranks, want)
		}
	}
	own, err := c.readoutStack(m, raw["accumulated_resid"], nil, true)
	if err != nil {
		t.Fatal(err)
	}
	compare("own-scale lens logits", own.Values, "lens/logits")

	// Direct logit attribution to each example's target, and to the
	// difference target - other.
	for _, key := range []string{"decompose_resid", "stack_head_results"} {
		st := raw[key]
		tokens := append(slices.Clone(tc.Target), tc.Other...)
		a, err := DLA(m, c, st, tokens...)
		if err != nil {
			t.Fatal(err)
		}
		var target, diff []float32
		for k := range st.Labels {
			for i := range b {
				for j := range s {
					target = append(target, a.At(k, i, j, i))
					diff = append(diff, a.At(k, i, j, i)-a.At(k, i, j, b+i))
				}
			}
		}
		short := map[string]string{"decompose_resid": "decompose", "stack_head_results": "heads"}[key]
		compare(key+" DLA", target, fmt.Sprintf("dla/%s_target", short))
		compare(key+" logit difference DLA", diff, fmt.Sprintf("dla/%s_logit_diff", short))
		if b == 1 {
			ld, err := LogitDiffDLA(m, c, st, tc.Target[0], tc.Other[0])
			if err != nil {
				t.Fatal(err)
			}
			compare(key+" LogitDiffDLA", ld.Values, fmt.Sprintf("dla/%s_logit_diff", short))
		}
	}
}
