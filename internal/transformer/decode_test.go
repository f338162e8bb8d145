package transformer

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// tiny is a small Llama-style model wired from the core: grouped-query
// attention with rotary embeddings, RMSNorm and a gated MLP, with a head
// size apart from width/heads. It implements lm.Model.
type tiny struct {
	layers, hidden, heads, kvHeads, headDim, inner, vocab int
	attn                                                  AttentionConfig
	norm                                                  Norm
	act                                                   Activation
	backend                                               compute.Backend
	params                                                []*tensors.Tensor
}

// Per-layer parameters, in order.
const (
	tAttnNorm = iota
	tQ
	tK
	tV
	tO
	tMLPNorm
	tGate
	tUp
	tDown
	tPerLayer
)

func newTiny(t *testing.T, attn AttentionConfig, norm Norm, act Activation, seed uint64) *tiny {
	m := &tiny{layers: 2, hidden: 10, heads: attn.Heads, kvHeads: attn.KVHeads, headDim: attn.HeadDim, inner: 12, vocab: 13,
		attn: attn, norm: norm, act: act, backend: testBackend(t)}
	if err := attn.Validate(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	add := func(scale float32, dims ...int) {
		n := 1
		for _, d := range dims {
			n *= d
		}
		x := randn(rng, n)
		for i := range x {
			x[i] *= scale
		}
		m.params = append(m.params, t2(x, dims...))
	}
	d, q, kv := m.hidden, m.heads*m.headDim, m.kvHeads*m.headDim
	add(1, m.vocab, d)
	for range m.layers {
		add(0.2, d)
		add(0.4, q, d)
		add(0.4, kv, d)
		add(0.4, kv, d)
		add(0.4, d, q)
		add(0.2, d)
		add(0.4, m.inner, d)
		add(0.4, m.inner, d)
		add(0.4, d, m.inner)
	}
	add(0.2, d)
	add(0.5, m.vocab, d)
	return m
}

func (m *tiny) Dims() lm.Dims {
	return lm.Dims{Layers: m.layers, Heads: m.heads, KVHeads: m.kvHeads, Hidden: m.hidden, HeadDim: m.headDim,
		Inner: m.inner, Vocab: m.vocab, Positions: 64}
}
func (m *tiny) Backend() compute.Backend       { return m.backend }
func (m *tiny) Params() []*tensors.Tensor      { return m.params }
func (m *tiny) PadID() int                     { return 0 }
func (m *tiny) normed(x, w *Node) *Node        { return m.norm.Apply(x, NormWeights{Weight: w}) }
func linear(w *Node) LinearWeights             { return LinearWeights{W: w, Layout: OutIn} }
func (m *tiny) layer(p []*Node, l int) []*Node { return p[1+l*tPerLayer : 1+(l+1)*tPerLayer] }

func (m *tiny) BuildForward(params []*Node, in lm.Inputs, hook lm.Hook) *Node {
	n := len(params)
	return Forward(Wiring{
		Layers: m.layers,
		Embed: func(in lm.Inputs, at At) *Node {
			return at.Call(lm.Embed, Gather(params[0], ExpandAxes(in.IDs, -1)))
		},
		Block: func(l int, h *Node, ctx *Context, at At) *Node {
			p := m.layer(params, l)
			return PreNorm{
				Norm1: func(x *Node) *Node { return m.normed(x, p[tAttnNorm]) },
				Attention: func(a *Node) *Node {
					merged := Attention(m.attn, AttentionInputs{Query: Linear(a, linear(p[tQ])), Key: Linear(a, linear(p[tK])),
						Value: Linear(a, linear(p[tV])), Context: ctx, Layer: l}, at)
					return Linear(merged, linear(p[tO]))
				},
				Norm2: func(x *Node) *Node { return m.normed(x, p[tMLPNorm]) },
				MLP: func(x *Node) *Node {
					return MLP(x, m.act, MLPWeights{Gate: linear(p[tGate]), Up: linear(p[tUp]), Down: linear(p[tDown])}, at)
				},
			}.Apply(h, at)
		},
		FinalNorm: func(h *Node, _ At) *Node { return m.normed(h, params[n-2]) },
		Unembed:   func(h *Node) *Node { return Einsum("bsd,vd->bsv", h, params[n-1]) },
	}, in, hook)
}

// cachedLogits runs full (prompt columns [0, p), then one token per step)
// incrementally with a KV cache of full.Len slots, as lm's Decoder does,
// and returns each pass's last-position logits [b*vocab].
func cachedLogits(t *testing.T, m *tiny, full *lm.Batch, p int) [][]float32 {
	t.Helper()
	nParams, L, b := len(m.params), full.Len, full.Size
	build := func(in []*Node) []*Node {
		fn := lm.SplitForward(in, nParams)
		e := fn.Extra
		kv := &lm.KVCache{Start: e[0], Mask: e[1],
			Keys: append([]*Node(nil), e[2:2+m.layers]...), Values: append([]*Node(nil), e[2+m.layers:]...)}
		fn.Inputs.Cache, fn.Inputs.LastOnly = kv, true
		out := []*Node{m.BuildForward(fn.Params, fn.Inputs, nil)}
		return append(append(out, kv.Keys...), kv.Values...)
	}
	exec, err := NewExec(m.backend, build)
	if err != nil {
		t.Fatal(err)
	}
	var caches []any
	for range 2 * m.layers {
		caches = append(caches, tensors.FromShape(shapes.Make(dtypes.Float32, b, m.kvHeads, L, m.headDim)))
	}
	var steps [][]float32
	for start, n := 0, p; start < L; start, n = start+n, 1 {
		cut := func(ids []int32, mask []float32, pos []int32) *lm.Batch {
			sb := &lm.Batch{Size: b, Len: n}
			for e := range b {
				row := e*L + start
				sb.IDs = append(sb.IDs, ids[row:row+n]...)
				sb.Mask = append(sb.Mask, mask[row:row+n]...)
				sb.Positions = append(sb.Positions, pos[row:row+n]...)
			}
			return sb
		}
		cacheMask := make([]float32, b*L) // the slots written so far
		for e := range b {
			copy(cacheMask[e*L:e*L+start+n], full.Mask[e*L:e*L+start+n])
		}
		extra := append([]any{int32(start), t2(cacheMask, b, L)}, caches...)
		outs, err := exec.Call(lm.ForwardArgs{Params: m.params, Batch: cut(full.IDs, full.Mask, full.Positions), Extra: extra}.List()...)
		if err != nil {
			t.Fatal(err)
		}
		logits, err := tensors.CopyFlatData[float32](outs[0])
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, logits)
		caches = caches[:0]
		for _, c := range outs[1:] {
			caches = append(caches, c)
		}
	}
	return steps
}

func TestKVCacheMatchesFullForward(t *testing.T) {
	rope := &Rotary{Theta: 10000, Dims: 6}
	partial := &Rotary{Theta: 500, Dims: 4, Scaling: RopeScaling{Type: RopeLlama3, Factor: 4, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8}}
	cases := []struct {
		name string
		attn AttentionConfig
		norm Norm
		act  Activation
	}{
		{"GQA, rotary, RMSNorm, SwiGLU", AttentionConfig{Heads: 4, KVHeads: 2, HeadDim: 6, Rotary: rope}, Norm{Kind: RMSNormKind, Eps: 1e-6}, Silu},
		{"sliding window, partial llama3 rotary, soft cap, (1+w) RMSNorm, GeGLU",
			AttentionConfig{Heads: 6, KVHeads: 2, HeadDim: 8, Window: 3, SoftCap: 2, Scale: 0.25, Rotary: partial},
			Norm{Kind: RMSNormKind, Eps: 1e-6, OnePlus: true}, GeluTanh},
		{"multi-query, LayerNorm", AttentionConfig{Heads: 2, KVHeads: 1, HeadDim: 4, Rotary: &Rotary{Theta: 10000, Dims: 4}}, Norm{Kind: LayerNormKind, Eps: 1e-5}, Gelu},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newTiny(t, tc.attn, tc.norm, tc.act, uint64(i))
			prompts := []lm.Prompt{{IDs: []int{3, 1, 4, 1, 5}}, {IDs: []int{9, 2}}}
			pb, err := lm.NewBatch(prompts, 0, m.PadID(), m.vocab)
			if err != nil {
				t.Fatal(err)
			}
			// Greedy decoding with lm's Decoder (its cache sized by
			// KVHeads), then the full sequences in the same slots.
			const newTokens = 4
			gen, err := (&lm.Decoder{Model: m}).Generate(pb, lm.Sampling{MaxNewTokens: newTokens}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			L := pb.Len + newTokens - 1 // the last token is never fed back
			full := &lm.Batch{Size: pb.Size, Len: L, Lengths: make([]int, pb.Size)}
			for e := range pb.Size {
				row := pb.Len * e
				full.IDs = append(full.IDs, pb.IDs[row:row+pb.Len]...)
				full.Mask = append(full.Mask, pb.Mask[row:row+pb.Len]...)
				full.Positions = append(full.Positions, pb.Positions[row:row+pb.Len]...)
				for j, id := range gen.Tokens[e][:newTokens-1] {
					full.IDs = append(full.IDs, int32(id))
					full.Mask = append(full.Mask, 1)
					full.Positions = append(full.Positions, int32(pb.Lengths[e]+j))
				}
				full.Lengths[e] = pb.Lengths[e] + newTokens - 1
			}
			res, err := lm.NewRunner(m, m.PadID()).RunBatch(full)
			if err != nil {
				t.Fatal(err)
			}
			all, err := tensors.CopyFlatData[float32](res.Logits)
			if err != nil {
				t.Fatal(err)
			}
			steps := cachedLogits(t, m, full, pb.Len)
			if len(steps) != newTokens {
				t.Fatalf("%d cached passes, want %d", len(steps), newTokens)
			}
			V := m.vocab
			for step, logits := range steps {
				col := pb.Len - 1 + step
				for e := range pb.Size {
					want := f64(all[(e*L+col)*V : (e*L+col+1)*V])
					checkClose(t, "cached logits", logits[e*V:(e+1)*V], want)
					best := 0
					for v := range want {
						if want[v] > want[best] {
							best = v
						}
					}
					if gen.Tokens[e][step] != best {
						t.Errorf("step %d example %d: Decoder picked %d, the full forward's argmax is %d", step, e, gen.Tokens[e][step], best)
					}
				}
			}
		})
	}
}
