package transformer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.

	"github.com/govene/govene/lm"
)

// leftPadded returns the mask and position ids of b rows of length s, row
// e having pad[e] padding slots first (positions as lm.NewBatch: 0.. for
// tokens, 1 for padding).
func leftPadded(s int, pad ...int) ([]float32, []int32) {
	mask := make([]float32, len(pad)*s)
	pos := make([]int32, len(pad)*s)
	for e, p := range pad {
		for j := range s {
			if j < p {
				pos[e*s+j] = 1
				continue
			}
			mask[e*s+j] = 1
			pos[e*s+j] = int32(j - p)
		}
	}
	return mask, pos
}

func TestAttentionMatchesNaive(t *testing.T) {
	llama3 := RopeScaling{Type: RopeLlama3, Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 16}
	cases := []struct {
		name string
		cfg  AttentionConfig
		pad  []int // per row; its length is the batch size
	}{
		{"multi-head", AttentionConfig{Heads: 3, KVHeads: 3, HeadDim: 4}, []int{0, 2}},
		{"grouped-query rotary", AttentionConfig{Heads: 4, KVHeads: 2, HeadDim: 6, Rotary: &Rotary{Theta: 10000, Dims: 6}}, []int{0, 3}},
		{"groups of three, partial rotary", AttentionConfig{Heads: 6, KVHeads: 2, HeadDim: 8, Rotary: &Rotary{Theta: 10000, Dims: 4}}, []int{1, 0}},
		{"multi-query, llama3 rope", AttentionConfig{Heads: 4, KVHeads: 1, HeadDim: 8, Rotary: &Rotary{Theta: 500, Dims: 8, Scaling: llama3}}, []int{0}},
		{"linear rope", AttentionConfig{Heads: 2, KVHeads: 1, HeadDim: 4, Rotary: &Rotary{Theta: 100, Dims: 4, Scaling: RopeScaling{Type: RopeLinear, Factor: 2}}}, []int{2}},
		{"sliding window", AttentionConfig{Heads: 4, KVHeads: 2, HeadDim: 4, Window: 3, Rotary: &Rotary{Theta: 10000, Dims: 4}}, []int{0, 2}},
		{"window of one", AttentionConfig{Heads: 2, KVHeads: 2, HeadDim: 4, Window: 1}, []int{0}},
		{"soft cap and query scale", AttentionConfig{Heads: 4, KVHeads: 2, HeadDim: 4, Scale: 0.9, SoftCap: 1.5}, []int{0, 1}},
		{"head size apart from width", AttentionConfig{Heads: 2, KVHeads: 2, HeadDim: 16, Scale: 1}, []int{0}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			b, s := len(tc.pad), 7
			H, KV, dh := tc.cfg.Heads, tc.cfg.KVHeads, tc.cfg.HeadDim
			q, k, v := randn(rng, b*s*H*dh), randn(rng, b*s*KV*dh), randn(rng, b*s*KV*dh)
			mask, pos := leftPadded(s, tc.pad...)
			got := eval(t, func(in []*Node) []*Node {
				ctx := NewContext(in[0].Graph(), ContextInputs{Size: b, Len: s, Mask: in[3], Positions: in[4]})
				return []*Node{Attention(tc.cfg, AttentionInputs{Query: in[0], Key: in[1], Value: in[2], Context: ctx}, nil)}
			}, t2(q, b, s, H*dh), t2(k, b, s, KV*dh), t2(v, b, s, KV*dh), t2(mask, b, s), tensorI32(pos, b, s))
			checkClose(t, "attention", got[0], naiveAttention(tc.cfg, b, s, q, k, v, pos, mask))
		})
	}
}

func TestAttentionHookSites(t *testing.T) {
	cfg := AttentionConfig{Heads: 4, KVHeads: 2, HeadDim: 3, Rotary: &Rotary{Theta: 10000, Dims: 2}}
	b, s := 2, 5
	var order []string
	shapes := map[lm.Component][]int{}
	rng := rand.New(rand.NewPCG(3, 3))
	mask, pos := leftPadded(s, 0, 1)
	eval(t, func(in []*Node) []*Node {
		ctx := NewContext(in[0].Graph(), ContextInputs{Size: b, Len: s, Mask: in[3], Positions: in[4]})
		at := func(c lm.Component, x *Node) *Node {
			order = append(order, string(c))
			shapes[c] = x.Shape().Dimensions
			return x
		}
		return []*Node{Attention(cfg, AttentionInputs{Query: in[0], Key: in[1], Value: in[2], Context: ctx}, at)}
	}, t2(randn(rng, b*s*12), b, s, 12), t2(randn(rng, b*s*6), b, s, 6), t2(randn(rng, b*s*6), b, s, 6), t2(mask, b, s), tensorI32(pos, b, s))
	want := []lm.Component{lm.QueryOutput, lm.KeyOutput, lm.ValueOutput, lm.HeadQueryOutput, lm.HeadKeyOutput, lm.HeadValueOutput,
		lm.AttentionScores, lm.AttentionWeight, lm.HeadAttentionValueOutput, lm.AttentionValueOutput}
	var wantNames []string
	for _, c := range want {
		wantNames = append(wantNames, string(c))
	}
	if !slices.Equal(order, wantNames) {
		t.Fatalf("hook order %v, want %v", order, wantNames)
	}
	d := lm.Dims{Heads: 4, KVHeads: 2, HeadDim: 3, Hidden: 10}
	for c, sh := range shapes {
		if w := d.Width(c); w > 0 && sh[len(sh)-1] != w {
			t.Errorf("%s: last axis %d, lm.Dims.Width says %d", c, sh[len(sh)-1], w)
		}
		if n := d.HeadCount(c); n > 0 && sh[1] != n {
			t.Errorf("%s: head axis %d, lm.Dims.HeadCount says %d", c, sh[1], n)
		}
	}
}

// TestAllowedWithCache checks the mask of an incremental pass: queries at
// slots Start.. of a cache, with a padding slot and a sliding window.
func TestAllowedWithCache(t *testing.T) {
	const b, s, L, start = 1, 2, 7, 3
	keyMask := []float32{0, 1, 1, 1, 1, 0, 0}
	for _, window := range []int{0, 1, 2, 3, 10} {
		got := eval(t, func(in []*Node) []*Node {
			kv := &lm.KVCache{Mask: in[0], Start: in[1]}
			ctx := NewContext(in[0].Graph(), ContextInputs{Size: b, Len: s, Cache: kv})
			return []*Node{ConvertDType(ctx.Allowed(1, window), dtypes.Float32)}
		}, t2(keyMask, b, L), int32(start))
		for q := range s {
			for k := range L {
				i := start + q
				want := k <= i && keyMask[k] > 0 && (window == 0 || k > i-window)
				if (got[0][q*L+k] == 1) != want {
					t.Errorf("window %d: query slot %d key slot %d: allowed %v, want %v", window, i, k, got[0][q*L+k], want)
				}
			}
		}
	}
}

func TestAttentionConfigValidate(t *testing.T) {
	ok := AttentionConfig{Heads: 8, KVHeads: 2, HeadDim: 4}
	cases := []struct {
		name string
		edit func(*AttentionConfig)
		want string // "" for valid
	}{
		{"valid", func(*AttentionConfig) {}, ""},
		{"kv heads not dividing", func(c *AttentionConfig) { c.KVHeads = 3 }, "kv_heads 3"},
		{"kv heads above heads", func(c *AttentionConfig) { c.KVHeads = 16 }, "kv_heads 16"},
		{"no kv heads", func(c *AttentionConfig) { c.KVHeads = 0 }, "kv_heads 0"},
		{"no head size", func(c *AttentionConfig) { c.HeadDim = 0 }, "head_dim 0"},
		{"negative scale", func(c *AttentionConfig) { c.Scale = -1 }, "scale -1"},
		{"negative cap", func(c *AttentionConfig) { c.SoftCap = -2 }, "soft cap -2"},
		{"negative window", func(c *AttentionConfig) { c.Window = -1 }, "window -1"},
		{"odd rotary dims", func(c *AttentionConfig) { c.Rotary = &Rotary{Theta: 10000, Dims: 3} }, "rotary dims 3"},
		{"rotary wider than a head", func(c *AttentionConfig) { c.Rotary = &Rotary{Theta: 10000, Dims: 6} }, "rotary dims 6"},
		{"dynamic rope", func(c *AttentionConfig) {
			c.Rotary = &Rotary{Theta: 10000, Dims: 4, Scaling: RopeScaling{Type: "dynamic", Factor: 2}}
		}, `"dynamic" is not supported`},
		{"llama3 without bands", func(c *AttentionConfig) {
			c.Rotary = &Rotary{Theta: 10000, Dims: 4, Scaling: RopeScaling{Type: RopeLlama3, Factor: 8}}
		}, "low_freq_factor"},
		{"linear factor below one", func(c *AttentionConfig) {
			c.Rotary = &Rotary{Theta: 10000, Dims: 4, Scaling: RopeScaling{Type: RopeLinear, Factor: 0.5}}
		}, "factor 0.5"},
	}
	for _, tc := range cases {
		c := ok
		tc.edit(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}
