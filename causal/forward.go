package causal

import (
	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene/internal/transformer"
	"github.com/govene/govene/lm"
)

// Stack is the forward pass every family wires the same way: the token
// embedding, Layers blocks, the final norm and the unembedding (the token
// embedding itself when the checkpoint's output weight is tied).
type Stack struct {
	// Layers is the number of blocks.
	Layers int
	// Embed names the token embedding weight [vocab,d]; Unembed names the
	// output weight [vocab,d], which tied checkpoints lack.
	Embed, Unembed string
	// Scale, when set, transforms the token embeddings before the
	// lm.Embed site (Gemma scales them by sqrt(hidden_size)).
	Scale func(e *graph.Node) *graph.Node
	// Block runs block l on the residual stream h (see
	// transformer.Wiring.Block).
	Block func(w Weights, l int, h *graph.Node, ctx *transformer.Context, at transformer.At) *graph.Node
	// Norm is the final norm, with the weights called NormWeight and
	// NormBias (none when "").
	Norm                 transformer.Norm
	NormWeight, NormBias string
	// Cap, when set, transforms the logits before the lm.Logits site
	// (Gemma 2's final soft-capping).
	Cap func(logits *graph.Node) *graph.Node
}

// Forward builds s's forward pass on the weights w, calling hook at every
// site, and returns the logits (see transformer.Forward). It panics while
// the graph is built, which GoMLX turns into an error, when w lacks a
// weight s names.
func (s Stack) Forward(w Weights, in lm.Inputs, hook lm.Hook) *graph.Node {
	unembed := w.Opt(s.Unembed)
	if unembed == nil {
		unembed = w.Get(s.Embed)
	}
	norm := transformer.NormWeights{Weight: w.Get(s.NormWeight)}
	if s.NormBias != "" {
		norm.Bias = w.Get(s.NormBias)
	}
	wiring := transformer.Wiring{
		Layers: s.Layers,
		Embed: func(in lm.Inputs, at transformer.At) *graph.Node {
			e := graph.Gather(w.Get(s.Embed), graph.ExpandAxes(in.IDs, -1))
			if s.Scale != nil {
				e = s.Scale(e)
			}
			return at.Call(lm.Embed, e)
		},
		Block: func(l int, h *graph.Node, ctx *transformer.Context, at transformer.At) *graph.Node {
			return s.Block(w, l, h, ctx, at)
		},
		FinalNorm: func(h *graph.Node, at transformer.At) *graph.Node { return s.Norm.FinalNorm(h, norm, at) },
		Unembed: func(h *graph.Node) *graph.Node {
			logits := graph.Einsum("bsd,vd->bsv", h, unembed)
			if s.Cap != nil {
				logits = s.Cap(logits)
			}
			return logits
		},
	}
	return transformer.Forward(wiring, in, hook)
}
