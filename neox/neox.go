// Package neox holds GPT-NeoX (EleutherAI's Pythia and GPT-NeoX models):
// multi-head attention with one fused query/key/value projection laid out
// per head, partial rotary positions, LayerNorm, a plain MLP and, with
// use_parallel_residual, attention and MLP side by side. Models are
// *causal.Model.
package neox

import (
	"fmt"

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

// Family returns "gpt_neox".
func (a *Arch) Family() string { return "gpt_neox" }

// Dims returns the model's sizes. GPT-NeoX has no pos_embed site, and with
// use_parallel_residual no resid_mid.
func (a *Arch) Dims() lm.Dims {
	c := a.Config()
	absent := []lm.Component{lm.PosEmbed}
	if c.UseParallelResidual {
		absent = append(absent, lm.ResidMid)
	}
	return lm.Dims{Layers: c.NumHiddenLayers, Heads: c.NumAttentionHeads, KVHeads: c.NumAttentionHeads,
		Hidden: c.HiddenSize, HeadDim: c.HeadDim(), Inner: c.IntermediateSize, Vocab: c.VocabSize,
		Positions: c.MaxPositionEmbeddings, Absent: absent}
}

// EOS returns eos_token_id, or -1.
func (a *Arch) EOS() int { return int(a.Config().EOSTokenID) }

// String describes the architecture.
func (a *Arch) String() string {
	c := a.Config()
	res := "serial"
	if c.UseParallelResidual {
		res = "parallel"
	}
	return fmt.Sprintf("GPT-NeoX %d layers, %d heads, d=%d, vocab %d, %s residual", c.NumHiddenLayers,
		c.NumAttentionHeads, c.HiddenSize, c.VocabSize, res)
}

// ConfigJSON returns the config.json Save writes.
func (a *Arch) ConfigJSON() ([]byte, error) { return a.Config().configJSON() }

// SharesLayers reports true: every block is the same function of its
// weights.
func (a *Arch) SharesLayers() bool { return true }

// Params lists the weights with transformers' names.
func (a *Arch) Params() []causal.Param {
	return a.stack().Params()
}

// layerParams lists one block's weights: two LayerNorms, the fused
// attention projection, its output and the MLP.
func (a *Arch) layerParams(add func(name string, init causal.Init, shape ...int)) {
	c := a.Config()
	d, in := c.HiddenSize, c.IntermediateSize
	w, one, zero := causal.Normal(c.InitializerRange), causal.Fill(1), causal.Fill(0)
	add("input_layernorm.weight", one, d)
	add("input_layernorm.bias", zero, d)
	add("post_attention_layernorm.weight", one, d)
	add("post_attention_layernorm.bias", zero, d)
	add("attention.query_key_value.weight", w, 3*d, d)
	if c.AttentionBias {
		add("attention.query_key_value.bias", zero, 3*d)
	}
	add("attention.dense.weight", w, d, d)
	if c.AttentionBias {
		add("attention.dense.bias", zero, d)
	}
	add("mlp.dense_h_to_4h.weight", w, in, d)
	add("mlp.dense_h_to_4h.bias", zero, in)
	add("mlp.dense_4h_to_h.weight", w, d, in)
	add("mlp.dense_4h_to_h.bias", zero, d)
}

// stack is the frame Params and Forward share.
func (a *Arch) stack() causal.Stack {
	c := a.Config()
	names := causal.Names{Embed: "gpt_neox.embed_in.weight", Unembed: "embed_out.weight", Layer: "gpt_neox.layers.",
		NormWeight: "gpt_neox.final_layer_norm.weight", NormBias: "gpt_neox.final_layer_norm.bias"}
	return causal.Stack{Names: names, Layers: c.NumHiddenLayers, Vocab: c.VocabSize, Hidden: c.HiddenSize,
		Init: causal.Normal(c.InitializerRange), NormInit: causal.Fill(1), Tied: c.TieWordEmbeddings,
		LayerParams: a.layerParams, Block: a.block, Norm: transformer.Norm{Kind: transformer.LayerNormKind, Eps: c.LayerNormEps}}
}

// Forward builds the forward pass: token embeddings, the blocks, the final
// LayerNorm and the unembedding.
func (a *Arch) Forward(w causal.Weights, in lm.Inputs, hook lm.Hook) *Node {
	return a.stack().Forward(w, in, hook)
}

// block is decoder layer l.
func (a *Arch) block(w causal.Layer, l int, h *Node, ctx *transformer.Context, at transformer.At) *Node {
	c := a.Config()
	norm := func(name string) func(*Node) *Node {
		return func(x *Node) *Node {
			return transformer.LayerNorm(x, transformer.NormWeights{Weight: w.Get(name + ".weight"), Bias: w.Get(name + ".bias")}, c.LayerNormEps)
		}
	}
	hd := c.HeadDim()
	rot := rotary(a.Rope(), hd)
	attn := transformer.AttentionConfig{Heads: c.NumAttentionHeads, KVHeads: c.NumAttentionHeads, HeadDim: hd, Rotary: &rot}
	act, _ := transformer.ParseActivation(c.HiddenAct) // Validate checked it
	attention := func(x *Node) *Node {
		// The fused projection is laid out per head: [q_h, k_h, v_h].
		dims := x.Shape().Dimensions
		b, s, nh := dims[0], dims[1], c.NumAttentionHeads
		qkv := Reshape(transformer.Linear(x, w.Linear("attention.query_key_value")), b, s, nh, 3, hd)
		part := func(i int) *Node {
			return Reshape(Slice(qkv, AxisRange(), AxisRange(), AxisRange(), AxisElem(i), AxisRange()), b, s, nh*hd)
		}
		merged := transformer.Attention(attn, transformer.AttentionInputs{
			Query: part(0), Key: part(1), Value: part(2), Context: ctx, Layer: l}, at)
		return transformer.Output(merged, c.NumAttentionHeads, w.Linear("attention.dense"), at)
	}
	mlp := func(x *Node) *Node {
		return transformer.MLP(x, act, transformer.MLPWeights{Up: w.Linear("mlp.dense_h_to_4h"), Down: w.Linear("mlp.dense_4h_to_h")}, at)
	}
	if c.UseParallelResidual {
		return transformer.Parallel{Norm1: norm("input_layernorm"), Attention: attention,
			Norm2: norm("post_attention_layernorm"), MLP: mlp}.Apply(h, at)
	}
	return transformer.PreNorm{Norm1: norm("input_layernorm"), Attention: attention,
		Norm2: norm("post_attention_layernorm"), MLP: mlp}.Apply(h, at)
}
