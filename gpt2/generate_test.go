package gpt2

import (
	"slices"
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
