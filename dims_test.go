package govene

import "testing"

func TestDimsWidthAndHeads(t *testing.T) {
	gpt2 := Dims{Layers: 2, Heads: 4, KVHeads: 4, Hidden: 16, HeadDim: 4, Inner: 64, Vocab: 10}
	gqa := Dims{Layers: 2, Heads: 8, KVHeads: 2, Hidden: 24, HeadDim: 5, Inner: 40, Vocab: 10}
	noKV := Dims{Layers: 1, Heads: 3, Hidden: 12, HeadDim: 4, Vocab: 10} // KVHeads 0: Heads
	noHeadDim := Dims{Layers: 1, Heads: 1, Hidden: 7, Vocab: 10}         // HeadDim 0: hidden widths
	cases := []struct {
		name      string
		d         Dims
		c         Component
		width     int
		headCount int
	}{
		{"gpt2 query", gpt2, QueryOutput, 16, 0},
		{"gpt2 key", gpt2, KeyOutput, 16, 0},
		{"gpt2 head key", gpt2, HeadKeyOutput, 4, 4},
		{"gpt2 merged", gpt2, AttentionValueOutput, 16, 0},
		{"gqa query", gqa, QueryOutput, 40, 0},
		{"gqa key", gqa, KeyOutput, 10, 0},
		{"gqa value", gqa, ValueOutput, 10, 0},
		{"gqa merged heads", gqa, AttentionValueOutput, 40, 0},
		{"gqa attention output", gqa, AttentionOutput, 24, 0},
		{"gqa head query", gqa, HeadQueryOutput, 5, 8},
		{"gqa head key", gqa, HeadKeyOutput, 5, 2},
		{"gqa head value", gqa, HeadValueOutput, 5, 2},
		{"gqa weights", gqa, AttentionWeight, -1, 8},
		{"gqa head attention value", gqa, HeadAttentionValueOutput, 5, 8},
		{"gqa residual", gqa, BlockOutput, 24, 0},
		{"no kv heads: key", noKV, KeyOutput, 12, 0},
		{"no kv heads: head value", noKV, HeadValueOutput, 4, 3},
		{"no head dim: key", noHeadDim, KeyOutput, 7, 0},
		{"no head dim: query", noHeadDim, QueryOutput, 7, 0},
		{"gpt2 mlp_post", gpt2, MLPPost, 64, 0},
		{"gqa mlp_post", gqa, MLPPost, 40, 0},
	}
	for _, tc := range cases {
		if got := tc.d.Width(tc.c); got != tc.width {
			t.Errorf("%s: Width = %d, want %d", tc.name, got, tc.width)
		}
		if got := tc.d.HeadCount(tc.c); got != tc.headCount {
			t.Errorf("%s: HeadCount = %d, want %d", tc.name, got, tc.headCount)
		}
	}
}
