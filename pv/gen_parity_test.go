package pv

import (
	"slices"
	"testing"

	"github.com/govene/govene/lm"
)

// genCase is one case of pv/testdata/gen_cases.json: pyvene 0.1.8's
// IntervenableModel.generate, greedy, 8 new tokens.
type genCase struct {
	pvCase
	InterveneOnPrompt *bool   `json:"intervene_on_prompt"`
	MaxNewTokens      int     `json:"max_new_tokens"`
	UseCache          bool    `json:"use_cache"`
	Tokens            [][]int `json:"tokens"`
	OriginalTokens    [][]int `json:"original_tokens"`
}

// TestGenerationParityWithPyvene checks that govene's generation with
// interventions yields pyvene's greedy tokens, for interventions on the
// prompt, on every new token, and steering with and without locations.
func TestGenerationParityWithPyvene(t *testing.T) {
	m, cases, ref := loadParity[genCase](t, "gen", 10)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if !c.UseCache {
				// pyvene without a KV cache re-runs the prompt each step and
				// counts forwards, not tokens; govene always decodes with a cache.
				t.Skip("pyvene's use_cache=False semantics are not reproduced: govene always uses a KV cache")
			}
			s := lm.Sampling{MaxNewTokens: c.MaxNewTokens}
			if len(c.Config.Representations) == 0 {
				got, err := m.Generate(prompts(c.Base), s, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.EqualFunc(got, c.Tokens, slices.Equal) {
					t.Errorf("tokens %v, pyvene %v", got, c.Tokens)
				}
				return
			}
			iv, err := New(m, c.config(t, ref))
			if err != nil {
				t.Fatal(err)
			}
			iop := c.InterveneOnPrompt != nil && *c.InterveneOnPrompt
			// No EveryStep: without locations, InterveneOnPrompt alone steers
			// every forward, as pyvene does.
			g := GenerateOptions{Sampling: s, InterveneOnPrompt: iop}
			opts := append(caseOptions(t, c.pvCase, iv, ref), WithOriginal())
			gen, err := iv.Generate(prompts(c.Base), g, opts...)
			if c.Error != "" {
				if err == nil {
					t.Fatalf("pyvene raised %q; govene generated %v", c.Error, gen.Tokens)
				}
				t.Logf("pyvene: %s; govene: %v", c.Error, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(gen.NewTokens, c.Tokens, slices.Equal) {
				t.Errorf("new tokens %v, pyvene %v", gen.NewTokens, c.Tokens)
			}
			if !slices.EqualFunc(gen.OriginalNewTokens, c.OriginalTokens, slices.Equal) {
				t.Errorf("original new tokens %v, pyvene %v", gen.OriginalNewTokens, c.OriginalTokens)
			}
			// Tokens are prompt + new, as pyvene's (unpadded: equal-length prompts here).
			for e := range c.Base {
				if want := append(slices.Clone(c.Base[e]), c.Tokens[e]...); !slices.Equal(gen.Tokens[e], want) {
					t.Errorf("example %d: tokens %v, want prompt + new %v", e, gen.Tokens[e], want)
				}
				if want := append(slices.Clone(c.Base[e]), c.OriginalTokens[e]...); !slices.Equal(gen.Original[e], want) {
					t.Errorf("example %d: original %v, want prompt + new %v", e, gen.Original[e], want)
				}
			}
		})
	}
}
