package gpt2

import (
	"math"
	"strconv"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.

	"github.com/govene/govene/internal/transformer"
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

// buildForward wires GPT-2 onto the shared transformer core: token plus
// learned position embeddings, pre-norm blocks of fused-QKV multi-head
// attention and a plain MLP, a final LayerNorm and the tied unembedding.
func (c Config) buildForward(params []*Node, in lm.Inputs, hook lm.Hook) *Node {
	eps := c.LayerNormEpsilon
	n := len(params)
	w := transformer.Wiring{
		Layers: c.NLayer,
		Embed: func(in lm.Inputs, at transformer.At) *Node {
			tok := at.Call(lm.Embed, Gather(params[pWTE], ExpandAxes(in.IDs, -1)))
			pos := at.Call(lm.PosEmbed, Gather(params[pWPE], ExpandAxes(in.Positions, -1)))
			return Add(tok, pos)
		},
		Block: func(l int, h *Node, ctx *transformer.Context, at transformer.At) *Node {
			return c.block(params[pLayers+l*pPerLayer:pLayers+(l+1)*pPerLayer], l, h, ctx, at)
		},
		FinalNorm: func(h *Node, at transformer.At) *Node {
			return transformer.Norm{Kind: transformer.LayerNormKind, Eps: eps}.FinalNorm(h, transformer.NormWeights{Weight: params[n-2], Bias: params[n-1]}, at)
		},
		Unembed: func(h *Node) *Node { return Einsum("bsd,vd->bsv", h, params[pWTE]) },
	}
	return transformer.Forward(w, in, hook)
}

// block is GPT-2 block l on its weights p (pPerLayer of them).
func (c Config) block(p []*Node, l int, h *Node, ctx *transformer.Context, at transformer.At) *Node {
	eps := c.LayerNormEpsilon
	act, err := transformer.ParseActivation(c.ActivationFunction)
	if err != nil { // Validate refuses unknown names; keep GPT-2's default
		act = transformer.GeluTanh
	}
	attn := transformer.AttentionConfig{Heads: c.NHead, KVHeads: c.NHead, HeadDim: c.HeadDim(), Scale: c.attnScale(l)}
	conv := func(w, b int) transformer.LinearWeights { // HF's Conv1D: [in, out]
		return transformer.LinearWeights{W: p[w], Bias: p[b], Layout: transformer.InOut}
	}
	return transformer.PreNorm{
		Norm1: func(x *Node) *Node {
			return transformer.LayerNorm(x, transformer.NormWeights{Weight: p[pLN1W], Bias: p[pLN1B]}, eps)
		},
		Attention: func(a *Node) *Node {
			qkv := Split(transformer.Linear(a, conv(pAttnW, pAttnB)), -1, 3)
			merged := transformer.Attention(attn, transformer.AttentionInputs{
				Query: qkv[0], Key: qkv[1], Value: qkv[2], Context: ctx, Layer: l}, at)
			return transformer.Output(merged, c.NHead, conv(pProjW, pProjB), at)
		},
		Norm2: func(x *Node) *Node {
			return transformer.LayerNorm(x, transformer.NormWeights{Weight: p[pLN2W], Bias: p[pLN2B]}, eps)
		},
		MLP: func(x *Node) *Node {
			return transformer.MLP(x, act, transformer.MLPWeights{Up: conv(pFcW, pFcB), Down: conv(pFcProjW, pFcProjB)}, at)
		},
	}.Apply(h, at)
}

// attnScale is what block l multiplies q·k by, as transformers' eager GPT-2
// attention: 1/sqrt(head_dim) unless scale_attn_weights is false, and
// 1/(l+1) more with scale_attn_by_inverse_layer_idx.
func (c Config) attnScale(l int) float64 {
	scale := 1.0
	if c.ScaleAttnWeights == nil || *c.ScaleAttnWeights {
		scale /= math.Sqrt(float64(c.HeadDim()))
	}
	if c.ScaleAttnByInverseLayerIdx {
		scale /= float64(l + 1)
	}
	return scale
}
