package gpt2

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/govene/govene/lm"
)

// greedyByRerun generates greedily by re-running the whole sequence each
// step, without a cache: the reference for the cached decoder.
func greedyByRerun(t *testing.T, m *Model, p lm.Prompt, n int) []int {
	t.Helper()
	ids := slices.Clone(p.IDs)
	var out []int
	for range n {
		r, err := m.Run([]lm.Prompt{{IDs: ids}})
		if err != nil {
			t.Fatal(err)
		}
		l, err := r.NextTokenLogits(0)
		if err != nil {
			t.Fatal(err)
		}
		best := 0
		for i, v := range l {
			if v > l[best] {
				best = i
			}
		}
		out = append(out, best)
		ids = append(ids, best)
	}
	return out
}

func TestGenerateMatchesRerun(t *testing.T) {
	c := tinyConfig()
	c.NPositions = 32
	m, err := Random(c, 21, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prompts := []lm.Prompt{{IDs: []int{5, 17, 42, 8, 99}}, {IDs: []int{7, 3}}}
	var streamed [][]int
	got, err := m.Generate(prompts, lm.Sampling{MaxNewTokens: 8}, func(step int, ids []int) {
		if step != len(streamed) {
			t.Errorf("step %d streamed after %d steps", step, len(streamed))
		}
		streamed = append(streamed, slices.Clone(ids))
	})
	if err != nil {
		t.Fatal(err)
	}
	for e, p := range prompts {
		want := greedyByRerun(t, m, p, 8)
		if !slices.Equal(got[e], want) {
			t.Errorf("prompt %d: cached greedy %v, re-run greedy %v", e, got[e], want)
		}
		for s := range 8 {
			if streamed[s][e] != got[e][s] {
				t.Errorf("streamed token %d of prompt %d is %d, returned %d", s, e, streamed[s][e], got[e][s])
			}
		}
	}
	// Sampling is reproducible with a seed and differs across seeds.
	s1, _ := m.Generate(prompts[:1], lm.Sampling{MaxNewTokens: 10, Temperature: 1.5, TopK: 50, TopP: 0.95, Seed: 1}, nil)
	s1b, _ := m.Generate(prompts[:1], lm.Sampling{MaxNewTokens: 10, Temperature: 1.5, TopK: 50, TopP: 0.95, Seed: 1}, nil)
	s2, _ := m.Generate(prompts[:1], lm.Sampling{MaxNewTokens: 10, Temperature: 1.5, TopK: 50, TopP: 0.95, Seed: 2}, nil)
	if !slices.Equal(s1[0], s1b[0]) {
		t.Errorf("same seed, different samples: %v %v", s1[0], s1b[0])
	}
	if slices.Equal(s1[0], s2[0]) {
		t.Errorf("different seeds gave the same 10 samples %v", s1[0])
	}
	if _, err := m.Generate(prompts, lm.Sampling{MaxNewTokens: 40}, nil); err == nil {
		t.Error("generating past n_positions should fail")
	}
	if _, err := m.Generate(prompts, lm.Sampling{TopP: 2}, nil); err == nil {
		t.Error("top_p 2 should fail")
	}
}

// TestGenerateHostileSampling checks that sampling settings no model can
// honour are refused with an error naming the field and the valid range,
// before anything is allocated (max_new_tokens near MaxInt used to overflow
// prompt length + new tokens and panic in make).
func TestGenerateHostileSampling(t *testing.T) {
	c := tinyConfig()
	c.NPositions = 32
	m, err := Random(c, 21, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prompts := []lm.Prompt{{IDs: []int{5, 17, 42}}}
	for _, tt := range []struct {
		name string
		s    lm.Sampling
		want []string
	}{
		{"max_new_tokens MaxInt", lm.Sampling{MaxNewTokens: math.MaxInt}, []string{"exceed the model's 32 positions", "valid max_new_tokens: [0, 29]"}},
		{"max_new_tokens one past", lm.Sampling{MaxNewTokens: 30}, []string{"3 prompt tokens + 30 new tokens", "[0, 29]"}},
		{"negative max_new_tokens", lm.Sampling{MaxNewTokens: -1}, []string{"max_new_tokens -1 must not be negative"}},
		{"infinite temperature", lm.Sampling{Temperature: math.Inf(1)}, []string{"temperature +Inf must be a finite number >= 0"}},
		{"NaN temperature", lm.Sampling{Temperature: math.NaN()}, []string{"temperature NaN"}},
		{"NaN top_p", lm.Sampling{TopP: math.NaN()}, []string{"top_p NaN must be in [0, 1]"}},
		{"negative top_k", lm.Sampling{TopK: -3}, []string{"top_k -3 must be >= 0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Generate(prompts, tt.s, nil)
			if err == nil {
				t.Fatalf("Generate(%+v) gave no error", tt.s)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// The largest valid max_new_tokens still runs.
	if _, err := m.Generate(prompts, lm.Sampling{MaxNewTokens: 29}, nil); err != nil {
		t.Errorf("max_new_tokens 29 (the limit): %v", err)
	}
}
