package causal_test

import (
	"strings"
	"testing"

	"github.com/govene/govene/causal"
)

func TestSameWindows(t *testing.T) {
	tests := []struct {
		name    string
		layers  int
		windows []int
		want    bool
	}{
		{"one layer", 1, []int{4}, true},
		{"all full", 3, []int{0, 0, 0}, true},
		{"all sliding", 2, []int{8, 8}, true},
		{"alternating", 4, []int{8, 0, 8, 0}, false},
		{"last differs", 3, []int{0, 0, 5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := causal.SameWindows(tt.layers, func(l int) int { return tt.windows[l] }); got != tt.want {
				t.Errorf("SameWindows(%v) = %v; want %v", tt.windows, got, tt.want)
			}
		})
	}
}

func TestCheckCore(t *testing.T) {
	ok := causal.CoreSizes{Vocab: 10, Hidden: 8, Inner: 16, Layers: 2, Heads: 4, Positions: 32, Grouped: true, KVHeads: 2, HeadDim: 2}
	tests := []struct {
		name  string
		edit  func(*causal.CoreSizes)
		more  []causal.Size
		wants []string // substrings of the error; none: valid
	}{
		{name: "valid", edit: func(*causal.CoreSizes) {}},
		{name: "zero vocab", edit: func(s *causal.CoreSizes) { s.Vocab = 0 }, wants: []string{"fam: config vocab_size = 0; valid: [1, 2097152]"}},
		{name: "kv not a divisor", edit: func(s *causal.CoreSizes) { s.KVHeads = 3 },
			wants: []string{"fam: config num_key_value_heads = 3; valid: a divisor of num_attention_heads (4)"}},
		{name: "kv over heads", edit: func(s *causal.CoreSizes) { s.KVHeads = 8 }, wants: []string{"num_key_value_heads = 8; valid: [1, 4]"}},
		{name: "ungrouped ignores kv", edit: func(s *causal.CoreSizes) { s.Grouped, s.KVHeads, s.HeadDim = false, 0, 0 }},
		{name: "more sizes", edit: func(*causal.CoreSizes) {}, more: []causal.Size{{Field: "sliding_window", Value: 0, Min: 1, Max: 9}},
			wants: []string{"fam: config sliding_window = 0; valid: [1, 9]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			err := causal.CheckCore("fam", s, tt.more...)
			if len(tt.wants) == 0 {
				if err != nil {
					t.Fatalf("CheckCore: %v; want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckCore: nil; want %q", tt.wants)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestCheckLayerTypesAndWeights(t *testing.T) {
	if err := causal.CheckLayerTypes("fam", nil, 3); err != nil {
		t.Errorf("no layer_types: %v", err)
	}
	if err := causal.CheckLayerTypes("fam", []string{"full_attention", "sliding_attention"}, 2); err != nil {
		t.Errorf("valid layer_types: %v", err)
	}
	err := causal.CheckLayerTypes("fam", []string{"full_attention", "global"}, 3)
	for _, w := range []string{`fam: config layer_types[1] = "global"`, "layer_types has 2 entries; valid: one per layer (3)"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("CheckLayerTypes: %v; want %q", err, w)
		}
	}
	if err := causal.CheckWeights("fam", causal.MaxWeights); err != nil {
		t.Errorf("CheckWeights(MaxWeights): %v", err)
	}
	if err := causal.CheckWeights("fam", 2*causal.MaxWeights); err == nil || !strings.Contains(err.Error(), "fam: config describes 1.37e+11 weights") {
		t.Errorf("CheckWeights(2*MaxWeights): %v", err)
	}
}
