package main

import (
	"slices"
	"testing"
)

// TestPromptIn checks the token ids against the formula pyvene_bench.py's
// prompt(k, n, vocab) uses: GPT-2's ids are below 50000, the Llama's below
// its vocabulary of 32000.
func TestPromptIn(t *testing.T) {
	for _, tc := range []struct {
		name        string
		k, n, vocab int
		want        []int
	}{
		{"gpt2 prompt 0", 0, 3, 50257, []int{1000, 5729, 10458}},
		{"gpt2 prompt 1", 1, 2, 50257, []int{8919, 13648}},
		{"llama prompt 0", 0, 3, 32000, []int{1000, 9729, 18458}},
		{"llama prompt 1", 1, 2, 32000, []int{8919, 17648}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := promptIn(tc.k, tc.n, tc.vocab).IDs; !slices.Equal(got, tc.want) {
				t.Errorf("promptIn(%d, %d, %d) = %v, want %v", tc.k, tc.n, tc.vocab, got, tc.want)
			}
		})
	}
	if got, want := prompt(1, 2).IDs, promptIn(1, 2, vocab).IDs; !slices.Equal(got, want) {
		t.Errorf("prompt(1, 2) = %v, want promptIn with GPT-2's vocabulary %v", got, want)
	}
	for _, id := range promptIn(7, 64, 32000).IDs {
		if id < 0 || id >= 32000 {
			t.Fatalf("promptIn(7, 64, 32000) has id %d outside [0, 32000)", id)
		}
	}
}
