package gpt2

import (
	"math"
	"strconv"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/ml/layers/activation"

	"github.com/govene/govene/lm"
)

// Parameter layout: the order of Params() and of the param nodes BuildForward
// takes.
const (
	pWTE = iota
	pWPE
	pLayers // start of the per-layer block
)

// Per-layer parameters, in order, relative to the layer's block.
const (
	pLN1W = iota
	pLN1B
	pAttnW
	pAttnB
	pProjW
	pProjB
	pLN2W
	pLN2B
	pFcW
	pFcB
	pFcProjW
	pFcProjB
	pPerLayer
)

// layerParamNames are the HF tensor names of one layer's parameters, after
// "h.{l}.", in the order above.
var layerParamNames = [pPerLayer]string{
	"ln_1.weight", "ln_1.bias",
	"attn.c_attn.weight", "attn.c_attn.bias",
	"attn.c_proj.weight", "attn.c_proj.bias",
	"ln_2.weight", "ln_2.bias",
	"mlp.c_fc.weight", "mlp.c_fc.bias",
	"mlp.c_proj.weight", "mlp.c_proj.bias",
}

// paramSpec is the HF name and shape of each parameter, in Params() order.
type paramSpec struct {
	name  string
	shape []int
}

func (c Config) paramSpecs() []paramSpec {
	d, inner := c.NEmbd, c.Inner()
	specs := []paramSpec{
		{"wte.weight", []int{c.VocabSize, d}},
		{"wpe.weight", []int{c.NPositions, d}},
	}
	for l := range c.NLayer {
		shapes := [pPerLayer][]int{
			{d}, {d},
			{d, 3 * d}, {3 * d},
			{d, d}, {d},
			{d}, {d},
			{d, inner}, {inner},
			{inner, d}, {d},
		}
		for i, n := range layerParamNames {
			specs = append(specs, paramSpec{"h." + strconv.Itoa(l) + "." + n, shapes[i]})
		}
	}
	return append(specs,
		paramSpec{"ln_f.weight", []int{d}},
		paramSpec{"ln_f.bias", []int{d}})
}

// BuildForward builds GPT-2's forward pass, calling hook at every site (see
// package lm for the list and the shapes), and returns the logits
// [b,s,vocab]. params are nodes for Params(), in order.
//
// Attention follows transformers' eager GPT-2 attention: scores scaled by
// 1/sqrt(head_dim) (and by 1/(layer+1) when scale_attn_by_inverse_layer_idx),
// a causal mask combined with the key padding mask, masked scores set to the
// lowest float32 before the softmax.
func (m *Model) BuildForward(params []*Node, in lm.Inputs, hook lm.Hook) *Node {
	return m.cfg.buildForward(params, in, hook)
}

// Resumes reports that BuildForward honours Inputs.StartLayer and Residual.
func (m *Model) Resumes() bool { return true }

// LayerParams returns the range of block l's weights in Params(); ok is
// false for l out of range and for configs whose blocks differ by more than
// their weights (scale_attn_by_inverse_layer_idx). See lm.LayerSharer.
func (m *Model) LayerParams(l int) (from, to int, ok bool) {
	if l < 0 || l >= m.cfg.NLayer || m.cfg.ScaleAttnByInverseLayerIdx {
		return 0, 0, false
	}
	return pLayers + l*pPerLayer, pLayers + (l+1)*pPerLayer, true
}

func (c Config) buildForward(params []*Node, in lm.Inputs, hook lm.Hook) *Node {
	if hook == nil {
		hook = func(_ lm.Site, x *Node) *Node { return x }
	}
	at := func(layer int, comp lm.Component, x *Node) *Node {
		return hook(lm.Site{Layer: layer, Component: comp}, x)
	}
	var h *Node
	if in.Residual != nil {
		h = in.Residual
	} else {
		tok := at(-1, lm.Embed, Gather(params[pWTE], ExpandAxes(in.IDs, -1)))
		pos := at(-1, lm.PosEmbed, Gather(params[pWPE], ExpandAxes(in.Positions, -1)))
		h = Add(tok, pos)
	}
	g := h.Graph()
	dims := h.Shape().Dimensions
	b, s := dims[0], dims[1]
	d, nh := c.NEmbd, c.NHead
	dh := d / nh
	eps := c.LayerNormEpsilon

	// allowed[b,h,q,k]: key k is at or before query q and is not padding. With
	// a cache, keys are the cache's L slots and query q sits at slot Start+q;
	// write[q,k] places the new tokens' keys and values in their slots.
	kv := in.Cache
	nk, keyMask := s, in.Mask
	var qSlot, write *Node
	if kv != nil {
		nk, keyMask = kv.Mask.Shape().Dimensions[1], kv.Mask
		qSlot = Add(Iota(g, shapes.Make(dtypes.Int32, s, nk), 0), ConvertDType(kv.Start, dtypes.Int32))
		write = ConvertDType(Equal(qSlot, Iota(g, shapes.Make(dtypes.Int32, s, nk), 1)), dtypes.Float32) // [s,L]
	} else {
		qSlot = Iota(g, shapes.Make(dtypes.Int32, s, nk), 0)
	}
	causal := ExpandAxes(GreaterOrEqual(qSlot, Iota(g, shapes.Make(dtypes.Int32, s, nk), 1)), 0, 1) // [1,1,s,L]
	keyOK := Reshape(GreaterThan(keyMask, ScalarZero(g, keyMask.DType())), b, 1, 1, nk)             // [b,1,1,L]
	allowed := LogicalAnd(BroadcastToDims(causal, b, 1, s, nk), BroadcastToDims(keyOK, b, 1, s, nk))
	allowed = BroadcastToDims(allowed, b, nh, s, nk)
	lowest := Scalar(g, dtypes.Float32, float32(-math.MaxFloat32))
	// intoCache writes new [b,h,s,dh] rows into a [b,h,L,dh] cache.
	intoCache := func(cache, x *Node) *Node {
		keep := OneMinus(ReduceSum(write, 0)) // [L]: 0 where a new token lands
		return Add(Mul(cache, Reshape(keep, 1, 1, nk, 1)), Einsum("ql,bhqd->bhld", write, x))
	}

	splitHeads := func(x *Node) *Node { // [b,s,d] -> [b,h,s,dh]
		return TransposeAllDims(Reshape(x, b, s, nh, dh), 0, 2, 1, 3)
	}
	end := c.NLayer
	if in.EndLayer > 0 {
		end = min(in.EndLayer, end)
	}
	for l := in.StartLayer; l < end; l++ {
		p := params[pLayers+l*pPerLayer : pLayers+(l+1)*pPerLayer]
		h = at(l, lm.BlockInput, h)
		a := at(l, lm.AttentionInput, layerNorm(h, p[pLN1W], p[pLN1B], eps))
		qkv := linear(a, p[pAttnW], p[pAttnB])
		parts := Split(qkv, -1, 3)
		q := at(l, lm.QueryOutput, parts[0])
		k := at(l, lm.KeyOutput, parts[1])
		v := at(l, lm.ValueOutput, parts[2])
		qh := at(l, lm.HeadQueryOutput, splitHeads(q))
		kh := at(l, lm.HeadKeyOutput, splitHeads(k))
		vh := at(l, lm.HeadValueOutput, splitHeads(v))
		if kv != nil {
			kv.Keys[l] = intoCache(kv.Keys[l], kh)
			kv.Values[l] = intoCache(kv.Values[l], vh)
			kh, vh = kv.Keys[l], kv.Values[l]
		}

		scale := 1.0
		if c.ScaleAttnWeights == nil || *c.ScaleAttnWeights {
			scale /= math.Sqrt(float64(dh))
		}
		if c.ScaleAttnByInverseLayerIdx {
			scale /= float64(l + 1)
		}
		scores := Einsum("bhqd,bhkd->bhqk", qh, kh)
		if scale != 1 {
			scores = MulScalar(scores, scale)
		}
		scores = at(l, lm.AttentionScores, scores)
		weights := at(l, lm.AttentionWeight, Softmax(Where(allowed, scores, lowest), -1))
		oh := at(l, lm.HeadAttentionValueOutput, Einsum("bhqk,bhkd->bhqd", weights, vh))
		merged := at(l, lm.AttentionValueOutput, Reshape(TransposeAllDims(oh, 0, 2, 1, 3), b, s, d))
		attnOut := at(l, lm.AttentionOutput, linear(merged, p[pProjW], p[pProjB]))
		h = at(l, lm.ResidMid, Add(h, attnOut))

		mi := at(l, lm.MLPInput, layerNorm(h, p[pLN2W], p[pLN2B], eps))
		act := at(l, lm.MLPActivation, c.activate(linear(mi, p[pFcW], p[pFcB])))
		mo := at(l, lm.MLPOutput, linear(act, p[pFcProjW], p[pFcProjB]))
		h = at(l, lm.BlockOutput, Add(h, mo))
	}
	if in.EndLayer > 0 {
		return h
	}
	n := len(params)
	if in.LastOnly {
		h = Slice(h, AxisRange(), AxisElem(s-1), AxisRange())
	}
	h = at(-1, lm.LNFinal, layerNorm(h, params[n-2], params[n-1], eps))
	return at(-1, lm.Logits, Einsum("bsd,vd->bsv", h, params[pWTE]))
}

// linear is HF's Conv1D: x @ w + bias, w stored [in, out].
func linear(x, w, bias *Node) *Node {
	return Add(Einsum("bsi,io->bso", x, w), ExpandLeftToRank(bias, 3))
}

// layerNorm normalizes the last axis with biased variance, as torch does. It
// divides by Sqrt rather than using Rsqrt, which has no gradient on the
// pure-Go backend.
func layerNorm(x, gain, bias *Node, eps float64) *Node {
	mean := ReduceAndKeep(x, ReduceMean, -1)
	centered := Sub(x, mean)
	variance := ReduceAndKeep(Square(centered), ReduceMean, -1)
	normed := Div(centered, Sqrt(AddScalar(variance, eps)))
	r := x.Rank()
	return Add(Mul(normed, ExpandLeftToRank(gain, r)), ExpandLeftToRank(bias, r))
}

func (c Config) activate(x *Node) *Node {
	switch c.ActivationFunction {
	case "gelu":
		return activation.Gelu(x)
	case "relu":
		return activation.Relu(x)
	case "silu", "swish":
		return activation.Swish(x)
	default: // gelu_new, gelu_pytorch_tanh, gelu_fast
		return activation.GeluApproximate(x)
	}
}
