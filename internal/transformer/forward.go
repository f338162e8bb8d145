package transformer

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.

	"github.com/govene/govene/lm"
)

// Wiring is a decoder-only model's wiring, for Forward: how it embeds the
// tokens, runs one block and turns the last residual stream into logits.
type Wiring struct {
	// Layers is the number of blocks.
	Layers int
	// Embed returns the residual stream entering block 0 [b,s,d] for the
	// pass's inputs, calling at (bound to layer -1) at its global sites
	// (lm.Embed, and lm.PosEmbed for learned positions).
	Embed func(in lm.Inputs, at At) *Node
	// Block runs block l on the residual stream h [b,s,d] and returns the
	// stream leaving it, calling at (bound to layer l) at every per-layer
	// site between lm.BlockInput and lm.BlockOutput, which Forward calls.
	Block func(l int, h *Node, ctx *Context, at At) *Node
	// FinalNorm normalizes the last residual stream, calling at at
	// lm.LNFinalScale (Norm.FinalNorm does); lm.LNFinal is hooked on its
	// result.
	FinalNorm func(h *Node, at At) *Node
	// Unembed maps the normalized stream to logits [b,s,vocab] (lm.Logits
	// is hooked on its result).
	Unembed func(h *Node) *Node
}

// Forward builds w's forward pass on in, calling hook at every site in
// the order the pass reaches them, and returns the logits [b,s,vocab]
// ([b,1,vocab] with in.LastOnly), or with in.EndLayer > 0 the residual
// stream leaving block EndLayer-1 [b,s,d]. It honours in.Residual and
// in.StartLayer (the blocks below are skipped) and in.Cache (see
// lm.KVCache). It panics (while the graph is built) on shape mismatches,
// as the Wiring's functions do.
func Forward(w Wiring, in lm.Inputs, hook lm.Hook) *Node {
	h := in.Residual
	if h == nil {
		h = w.Embed(in, Bind(hook, -1))
	}
	dims := h.Shape().Dimensions
	b, s := dims[0], dims[1]
	ctx := NewContext(h.Graph(), ContextInputs{Size: b, Len: s, Mask: in.Mask, Positions: in.Positions, Cache: in.Cache})
	end := w.Layers
	if in.EndLayer > 0 {
		end = min(in.EndLayer, end)
	}
	for l := in.StartLayer; l < end; l++ {
		at := Bind(hook, l)
		h = at.Call(lm.BlockInput, h)
		h = at.Call(lm.BlockOutput, w.Block(l, h, ctx, at))
	}
	if in.EndLayer > 0 {
		return h
	}
	if in.LastOnly {
		h = Slice(h, AxisRange(), AxisElem(s-1), AxisRange())
	}
	at := Bind(hook, -1)
	h = at.Call(lm.LNFinal, w.FinalNorm(h, at))
	return at.Call(lm.Logits, w.Unembed(h))
}

// PreNorm is the usual pre-norm residual block, as GPT-2, Llama, Mistral
// and Qwen2 wire it:
//
//	h = h + AttentionOutput(Attention(AttentionInput(Norm1(h))))   (ResidMid)
//	h = h + MLPOutput(MLP(MLPInput(Norm2(h))))
//
// Attention maps the normed stream to the attention output (projections,
// the Attention function and the output projection), MLP maps it to the
// MLP's output; they call the hook at the sites between.
type PreNorm struct {
	Norm1, Attention, Norm2, MLP func(*Node) *Node
}

// Apply runs the block on h [b,s,d] and returns the stream leaving it,
// calling at at lm.AttentionInput, AttentionOutput, ResidMid, MLPInput and
// MLPOutput.
func (p PreNorm) Apply(h *Node, at At) *Node {
	a := at.Call(lm.AttentionInput, p.Norm1(h))
	h = at.Call(lm.ResidMid, Add(h, at.Call(lm.AttentionOutput, p.Attention(a))))
	mi := at.Call(lm.MLPInput, p.Norm2(h))
	return Add(h, at.Call(lm.MLPOutput, p.MLP(mi)))
}

// Sandwich is Gemma 2's block: each sub-block's output is normalized
// again before it is added to the residual stream:
//
//	h = h + PostNorm1(AttentionOutput(Attention(AttentionInput(Norm1(h)))))   (ResidMid)
//	h = h + PostNorm2(MLPOutput(MLP(MLPInput(Norm2(h)))))
type Sandwich struct {
	Norm1, Attention, PostNorm1, Norm2, MLP, PostNorm2 func(*Node) *Node
}

// Apply runs the block on h [b,s,d] and returns the stream leaving it,
// calling at at lm.AttentionInput, AttentionOutput, ResidMid, MLPInput and
// MLPOutput (the sub-blocks' outputs before their post-norms).
func (p Sandwich) Apply(h *Node, at At) *Node {
	a := at.Call(lm.AttentionInput, p.Norm1(h))
	h = at.Call(lm.ResidMid, Add(h, p.PostNorm1(at.Call(lm.AttentionOutput, p.Attention(a)))))
	mi := at.Call(lm.MLPInput, p.Norm2(h))
	return Add(h, p.PostNorm2(at.Call(lm.MLPOutput, p.MLP(mi))))
}

// Parallel is GPT-NeoX's block with use_parallel_residual: attention and
// MLP both read the block's input, and both outputs are added to it:
//
//	h = h + AttentionOutput(Attention(AttentionInput(Norm1(h)))) + MLPOutput(MLP(MLPInput(Norm2(h))))
//
// There is no stream between the two (no lm.ResidMid site).
type Parallel struct {
	Norm1, Attention, Norm2, MLP func(*Node) *Node
}

// Apply runs the block on h [b,s,d] and returns the stream leaving it,
// calling at at lm.AttentionInput, AttentionOutput, MLPInput and
// MLPOutput.
func (p Parallel) Apply(h *Node, at At) *Node {
	a := at.Call(lm.AttentionOutput, p.Attention(at.Call(lm.AttentionInput, p.Norm1(h))))
	m := at.Call(lm.MLPOutput, p.MLP(at.Call(lm.MLPInput, p.Norm2(h))))
	return Add(Add(m, a), h) // transformers' order: (mlp + attn) + h
}
