package causal

import (
	"strconv"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene/internal/transformer"
	"github.com/govene/govene/lm"
)

// Names are the Hugging Face names of the weights a Stack holds outside
// its blocks, and the prefix of the blocks' weights.
type Names struct {
	// Embed is the token embedding [vocab,d]; Unembed the output weight
	// [vocab,d], which checkpoints with tied embeddings lack.
	Embed, Unembed string
	// Layer prefixes each block's weights, followed by the block number
	// and a dot ("model.layers." gives "model.layers.3.mlp.up_proj.weight").
	Layer string
	// NormWeight and NormBias are the final norm's gain and bias [d]
	// (NormBias "": none).
	NormWeight, NormBias string
}

// ModelNames are the names of Llama-style checkpoints (Llama, Mistral,
// Qwen2, Gemma 2).
var ModelNames = Names{Embed: "model.embed_tokens.weight", Unembed: "lm_head.weight",
	Layer: "model.layers.", NormWeight: "model.norm.weight"}

// Stack is the frame every family's architecture shares: the token
// embedding, Layers blocks, the final norm and the unembedding (the token
// embedding itself when the output weight is tied). A family describes its
// blocks' weights (LayerParams) and wiring (Block); Stack lists the
// weights and builds the forward pass.
type Stack struct {
	Names
	// Layers is the number of blocks; Vocab and Hidden size the embedding.
	Layers, Vocab, Hidden int
	// Init initialises the embedding and output weights; NormInit the
	// final norm's gain (its bias starts at 0).
	Init, NormInit Init
	// Tied says the output weight is the token embedding (no Unembed
	// weight is listed).
	Tied bool
	// LayerParams lists one block's weights by calling add with each
	// weight's name within the block, its init and its shape.
	LayerParams func(add func(name string, init Init, shape ...int))
	// Scale, when set, transforms the token embeddings before the
	// lm.Embed site (Gemma scales them by sqrt(hidden_size)).
	Scale func(e *graph.Node) *graph.Node
	// Block runs block l, whose weights are w, on the residual stream h
	// (see transformer.Wiring.Block).
	Block func(w Layer, l int, h *graph.Node, ctx *transformer.Context, at transformer.At) *graph.Node
	// Norm is the final norm.
	Norm transformer.Norm
	// Cap, when set, transforms the logits before the lm.Logits site
	// (Gemma 2's final soft-capping).
	Cap func(logits *graph.Node) *graph.Node
}

// Params lists the weights in Forward's order: the token embedding, each
// block's (as LayerParams lists them), the final norm and, unless Tied,
// the output weight.
func (s Stack) Params() []Param {
	ps := []Param{{Name: s.Embed, Shape: []int{s.Vocab, s.Hidden}, Init: s.Init, Block: -1}}
	for l := range s.Layers {
		p := s.Layer + strconv.Itoa(l) + "."
		s.LayerParams(func(name string, init Init, shape ...int) {
			ps = append(ps, Param{Name: p + name, Shape: shape, Init: init, Block: l})
		})
	}
	ps = append(ps, Param{Name: s.NormWeight, Shape: []int{s.Hidden}, Init: s.NormInit, Block: -1})
	if s.NormBias != "" {
		ps = append(ps, Param{Name: s.NormBias, Shape: []int{s.Hidden}, Init: Fill(0), Block: -1})
	}
	if !s.Tied {
		ps = append(ps, Param{Name: s.Unembed, Shape: []int{s.Vocab, s.Hidden}, Init: s.Init, Block: -1})
	}
	return ps
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
			return s.Block(Layer{w: w, prefix: s.Layer + strconv.Itoa(l) + "."}, l, h, ctx, at)
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

// Layer is one block's weights, looked up by their names within the block
// ("self_attn.q_proj.weight").
type Layer struct {
	w      Weights
	prefix string
}

// Get returns the block's weight called name; like Weights.Get, it panics
// while the graph is built when there is none.
func (l Layer) Get(name string) *graph.Node { return l.w.Get(l.prefix + name) }

// Linear returns the projection called name: its name.weight [out,in] and,
// when the block has one, its name.bias.
func (l Layer) Linear(name string) transformer.LinearWeights {
	return transformer.LinearWeights{W: l.Get(name + ".weight"), Bias: l.w.Opt(l.prefix + name + ".bias"), Layout: transformer.OutIn}
}
