// Package gemma2 holds Gemma 2: grouped-query attention with rotary
// positions, alternating sliding-window and global layers, attention and
// final logit soft-capping, scores scaled by query_pre_attn_scalar,
// embeddings scaled by sqrt(hidden_size), RMSNorm with (1+w) gains before
// and after each sub-block, and a GeGLU MLP. Models are *causal.Model.
package gemma2

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.

	"github.com/govene/govene/causal"
	"github.com/govene/govene/internal/transformer"
	"github.com/govene/govene/lm"
)

// Arch is the causal.Arch of a validated Config.
type Arch struct{ causal.Base[Config] }

// NewArch returns cfg's architecture, or cfg's validation error.
func NewArch(cfg Config) (*Arch, error) {
	return causal.NewArch(cfg, func(b causal.Base[Config]) *Arch { return &Arch{b} })
}

// Family returns "gemma2".
func (a *Arch) Family() string { return "gemma2" }

// Dims returns the model's sizes; Gemma 2 has no pos_embed site.
func (a *Arch) Dims() lm.Dims {
	c := a.Config()
	return lm.Dims{Layers: c.NumHiddenLayers, Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads,
		Hidden: c.HiddenSize, HeadDim: c.HeadDim, Inner: c.IntermediateSize, Vocab: c.VocabSize,
		Positions: c.MaxPositionEmbeddings, Absent: []lm.Component{lm.PosEmbed}}
}

// EOS returns eos_token_id, or -1.
func (a *Arch) EOS() int { return int(a.Config().EOSTokenID) }

// String describes the architecture.
func (a *Arch) String() string {
	c := a.Config()
	return fmt.Sprintf("Gemma 2 %d layers, %d heads (%d kv) of %d, d=%d, vocab %d", c.NumHiddenLayers,
		c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.HiddenSize, c.VocabSize)
}

// ConfigJSON returns the config.json Save writes.
func (a *Arch) ConfigJSON() ([]byte, error) { return a.Config().configJSON() }

// SharesLayers reports whether every block has the same attention window
// (not so when sliding and global layers alternate).
func (a *Arch) SharesLayers() bool {
	return causal.SameWindows(a.Config().NumHiddenLayers, a.Config().Window)
}

// Params lists the weights with transformers' names. Norm gains are
// stored as w in (1+w), so Random starts them at 0.
func (a *Arch) Params() []causal.Param {
	return a.stack().Params()
}

// layerParams lists one block's weights: four norms, the projections
// and the MLP.
func (a *Arch) layerParams(add func(name string, init causal.Init, shape ...int)) {
	c := a.Config()
	d, q, kv, in := c.HiddenSize, c.NumAttentionHeads*c.HeadDim, c.NumKeyValueHeads*c.HeadDim, c.IntermediateSize
	w, zero := causal.Normal(c.InitializerRange), causal.Fill(0)
	add("input_layernorm.weight", zero, d)
	for _, proj := range []struct {
		name    string
		out, in int
	}{{"q_proj", q, d}, {"k_proj", kv, d}, {"v_proj", kv, d}, {"o_proj", d, q}} {
		add("self_attn."+proj.name+".weight", w, proj.out, proj.in)
		if c.AttentionBias {
			add("self_attn."+proj.name+".bias", zero, proj.out)
		}
	}
	add("post_attention_layernorm.weight", zero, d)
	add("pre_feedforward_layernorm.weight", zero, d)
	add("post_feedforward_layernorm.weight", zero, d)
	add("mlp.gate_proj.weight", w, in, d)
	add("mlp.up_proj.weight", w, in, d)
	add("mlp.down_proj.weight", w, d, in)
}

// stack is the frame Params and Forward share.
func (a *Arch) stack() causal.Stack {
	c := a.Config()
	return causal.Stack{Names: causal.ModelNames, Layers: c.NumHiddenLayers, Vocab: c.VocabSize, Hidden: c.HiddenSize,
		Init: causal.Normal(c.InitializerRange), NormInit: causal.Fill(0), Tied: c.TieWordEmbeddings,
		LayerParams: a.layerParams, Block: a.block,
		Norm: transformer.Norm{Kind: transformer.RMSNormKind, Eps: c.RMSNormEps, OnePlus: true},
		Scale: func(e *Node) *Node {
			// transformers multiplies by sqrt(hidden_size) rounded to the
			// hidden dtype (float32 here).
			return Mul(e, Scalar(e.Graph(), dtypes.Float32, float32(math.Sqrt(float64(c.HiddenSize)))))
		},
		Cap: func(logits *Node) *Node {
			if cp := capOf(c.FinalLogitSoftcapping); cp > 0 {
				return transformer.SoftCap(logits, cp)
			}
			return logits
		},
	}
}

// Forward builds the forward pass: scaled token embeddings, sandwich-norm
// blocks, the final RMSNorm, the unembedding and the final soft-cap (the
// logits site sees the capped logits).
func (a *Arch) Forward(w causal.Weights, in lm.Inputs, hook lm.Hook) *Node {
	return a.stack().Forward(w, in, hook)
}

// block is decoder layer l.
func (a *Arch) block(w causal.Layer, l int, h *Node, ctx *transformer.Context, at transformer.At) *Node {
	c := a.Config()
	norm := func(name string) func(*Node) *Node {
		return func(x *Node) *Node { return transformer.RMSNorm(x, w.Get(name+".weight"), c.RMSNormEps, true) }
	}
	rot := rotary(a.Rope(), c.HeadDim)
	attn := transformer.AttentionConfig{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim,
		Scale: 1 / math.Sqrt(c.QueryPreAttnScalar), SoftCap: capOf(c.AttnLogitSoftcapping), Window: c.Window(l), Rotary: &rot}
	act, _ := transformer.ParseActivation(c.HiddenActivation) // Validate checked it
	return transformer.Sandwich{
		Norm1: norm("input_layernorm"),
		Attention: func(x *Node) *Node {
			merged := transformer.Attention(attn, transformer.AttentionInputs{
				Query: transformer.Linear(x, w.Linear("self_attn.q_proj")), Key: transformer.Linear(x, w.Linear("self_attn.k_proj")),
				Value: transformer.Linear(x, w.Linear("self_attn.v_proj")), Context: ctx, Layer: l}, at)
			return transformer.Output(merged, c.NumAttentionHeads, w.Linear("self_attn.o_proj"), at)
		},
		PostNorm1: norm("post_attention_layernorm"),
		Norm2:     norm("pre_feedforward_layernorm"),
		MLP: func(x *Node) *Node {
			return transformer.MLP(x, act, transformer.MLPWeights{Gate: w.Linear("mlp.gate_proj"), Up: w.Linear("mlp.up_proj"), Down: w.Linear("mlp.down_proj")}, at)
		},
		PostNorm2: norm("post_feedforward_layernorm"),
	}.Apply(h, at)
}
