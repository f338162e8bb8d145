package transformer

import (
	"errors"
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.

	"github.com/govene/govene/lm"
)

// AttentionConfig are one attention layer's sizes and options.
type AttentionConfig struct {
	// Heads query heads; KVHeads key/value heads, dividing Heads (Heads for
	// multi-head attention, fewer for grouped-query attention: query head i
	// reads key/value head i/(Heads/KVHeads)); HeadDim dimensions per head,
	// independent of the model's width.
	Heads, KVHeads, HeadDim int
	// Scale multiplies q·k: 1/sqrt(HeadDim) for most models (0 means that),
	// query_pre_attn_scalar^-0.5 for Gemma.
	Scale float64
	// SoftCap, when > 0, caps the scaled scores: tanh(x/SoftCap)*SoftCap
	// (Gemma 2's attn_logit_softcapping).
	SoftCap float64
	// Window, when > 0, is the sliding window: a query at slot i sees keys
	// j with i-Window < j <= i.
	Window int
	// Rotary, when set, rotates queries and keys per head (after the head
	// hooks, before the scores and the KV cache); nil for models with
	// learned positions, which they add to the embeddings.
	Rotary *Rotary
}

// Validate returns an error naming each bad field, its value and the valid
// range.
func (c AttentionConfig) Validate() error {
	var errs []error
	if c.Heads < 1 || c.HeadDim < 1 {
		errs = append(errs, fmt.Errorf("transformer: attention heads %d, head_dim %d; valid: >= 1", c.Heads, c.HeadDim))
	}
	if c.KVHeads < 1 || c.KVHeads > c.Heads || (c.KVHeads > 0 && c.Heads%c.KVHeads != 0) {
		errs = append(errs, fmt.Errorf("transformer: attention kv_heads %d; valid: a divisor of heads (%d)", c.KVHeads, c.Heads))
	}
	if c.Scale < 0 || math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) {
		errs = append(errs, fmt.Errorf("transformer: attention scale %g; valid: a finite number > 0 (0: 1/sqrt(head_dim))", c.Scale))
	}
	if c.SoftCap < 0 || math.IsNaN(c.SoftCap) || math.IsInf(c.SoftCap, 0) {
		errs = append(errs, fmt.Errorf("transformer: attention soft cap %g; valid: a finite number >= 0 (0: none)", c.SoftCap))
	}
	if c.Window < 0 {
		errs = append(errs, fmt.Errorf("transformer: attention window %d; valid: >= 0 (0: none)", c.Window))
	}
	if c.Rotary != nil {
		if err := c.Rotary.Validate(c.HeadDim); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// AttentionInputs are one attention layer's projected queries, keys and
// values and the pass it belongs to.
type AttentionInputs struct {
	// Query [b,s,Heads*HeadDim]; Key and Value [b,s,KVHeads*HeadDim].
	Query, Key, Value *Node
	// Context is the pass's shared state (masks, rotations, KV cache).
	Context *Context
	// Layer indexes the Context's KV cache (Keys[Layer], Values[Layer]).
	Layer int
}

// Attention computes softmax(mask(cap(scale*q·k)))·v and returns the heads
// merged back, [b,s,Heads*HeadDim], ready for the output projection. It
// calls at, in this order, at lm.QueryOutput, KeyOutput, ValueOutput (the
// inputs), HeadQueryOutput, HeadKeyOutput, HeadValueOutput ([b,h,s,hd],
// h = KVHeads for keys and values, before rotary), AttentionScores
// ([b,Heads,s,L], scaled and capped, before masking), AttentionWeight (the
// softmax), HeadAttentionValueOutput and AttentionValueOutput. Masked
// scores are set to the lowest float32 before the softmax, as
// transformers' eager GPT-2 attention does. With a KV cache the new keys
// and values (rotated) are written into Keys[Layer] and Values[Layer] and
// the queries attend to every slot. It panics (while the graph is built)
// on shape mismatches.
func Attention(cfg AttentionConfig, in AttentionInputs, at At) *Node {
	ctx := in.Context
	dims := in.Query.Shape().Dimensions
	b, s := dims[0], dims[1]
	nh, nkv, dh := cfg.Heads, cfg.KVHeads, cfg.HeadDim
	split := func(x *Node, heads int) *Node { // [b,s,h*dh] -> [b,h,s,dh]
		return TransposeAllDims(Reshape(x, b, s, heads, dh), 0, 2, 1, 3)
	}
	q := at.Call(lm.QueryOutput, in.Query)
	k := at.Call(lm.KeyOutput, in.Key)
	v := at.Call(lm.ValueOutput, in.Value)
	qh := at.Call(lm.HeadQueryOutput, split(q, nh))
	kh := at.Call(lm.HeadKeyOutput, split(k, nkv))
	vh := at.Call(lm.HeadValueOutput, split(v, nkv))
	if cfg.Rotary != nil {
		rot := ctx.Rotations(*cfg.Rotary)
		qh, kh = rot.Apply(qh), rot.Apply(kh)
	}
	if kv := ctx.Cache(); kv != nil {
		kv.Keys[in.Layer] = ctx.store(kv.Keys[in.Layer], kh)
		kv.Values[in.Layer] = ctx.store(kv.Values[in.Layer], vh)
		kh, vh = kv.Keys[in.Layer], kv.Values[in.Layer]
	}
	if nkv != nh {
		kh, vh = repeatHeads(kh, nh/nkv), repeatHeads(vh, nh/nkv)
	}
	scale := cfg.Scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(dh))
	}
	scores := Einsum("bhqd,bhkd->bhqk", qh, kh)
	if scale != 1 {
		scores = MulScalar(scores, scale)
	}
	if cfg.SoftCap > 0 {
		scores = SoftCap(scores, cfg.SoftCap)
	}
	scores = at.Call(lm.AttentionScores, scores)
	allowed := ctx.Allowed(nh, cfg.Window)
	weights := at.Call(lm.AttentionWeight, Softmax(Where(allowed, scores, lowest(scores.Graph())), -1))
	oh := at.Call(lm.HeadAttentionValueOutput, Einsum("bhqk,bhkd->bhqd", weights, vh))
	return at.Call(lm.AttentionValueOutput, Reshape(TransposeAllDims(oh, 0, 2, 1, 3), b, s, nh*dh))
}

// repeatHeads repeats each of x's heads [b,kv,L,dh] n times in a row,
// giving [b,kv*n,L,dh]: head i of the result is head i/n of x.
func repeatHeads(x *Node, n int) *Node {
	d := x.Shape().Dimensions
	return Reshape(BroadcastToDims(ExpandAxes(x, 2), d[0], d[1], n, d[2], d[3]), d[0], d[1]*n, d[2], d[3])
}

// SoftCap returns tanh(x/limit)*limit: x squashed into (-limit, limit),
// nearly unchanged where |x| is much smaller than limit.
func SoftCap(x *Node, limit float64) *Node {
	return MulScalar(Tanh(DivScalar(x, limit)), limit)
}

// Output applies the output projection w to the merged heads [b,s,H*hd]
// and returns [b,s,d]. It calls at at lm.HeadResult with each head's share
// of the projection [b,H,s,d] (without the bias); when the hook returns
// another node, the output is the sum of the returned shares over heads
// plus the bias, else the plain projection (the shares are then computed
// only where something reads them). It panics (while the graph is built)
// on shape mismatches.
func Output(merged *Node, heads int, w LinearWeights, at At) *Node {
	y := Linear(merged, w)
	if at == nil {
		return y
	}
	dims := merged.Shape().Dimensions
	b, s, hd := dims[0], dims[1], dims[2]/heads
	wo := w.W // [H*hd, d]
	if w.Layout == OutIn {
		wo = Transpose(wo, 0, 1)
	}
	d := wo.Shape().Dimensions[1]
	per := Einsum("bshe,hed->bhsd", Reshape(merged, b, s, heads, hd), Reshape(wo, heads, hd, d))
	r := at.Call(lm.HeadResult, per)
	if r == per {
		return y
	}
	out := ReduceSum(r, 1)
	if w.Bias != nil {
		out = Add(out, ExpandLeftToRank(w.Bias, 3))
	}
	return out
}
