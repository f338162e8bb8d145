// Package neox holds GPT-NeoX (EleutherAI's Pythia and GPT-NeoX models):
// multi-head attention with one fused query/key/value projection laid out
// per head, partial rotary positions, LayerNorm, a plain MLP and, with
// use_parallel_residual, attention and MLP side by side. Models are
// *causal.Model.
package neox

import (
	"fmt"
	"strconv"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.

	"github.com/govene/govene/causal"
	"github.com/govene/govene/internal/transformer"
	"github.com/govene/govene/lm"
)

// Arch is the causal.Arch of a validated Config.
type Arch struct{ causal.Base[Config] }

// NewArch returns cfg's architecture, or cfg's validation error.
func NewArch(cfg Config) (*Arch, error) { return causal.NewArch[Config, Arch](cfg) }

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
	c := a.Config()
	d, in := c.HiddenSize, c.IntermediateSize
	w, one, zero := causal.Normal(c.InitializerRange), causal.Fill(1), causal.Fill(0)
	ps := []causal.Param{{Name: "gpt_neox.embed_in.weight", Shape: []int{c.VocabSize, d}, Init: w}}
	for l := range c.NumHiddenLayers {
		p := "gpt_neox.layers." + strconv.Itoa(l) + "."
		add := func(name string, init causal.Init, shape ...int) {
			ps = append(ps, causal.Param{Name: p + name, Shape: shape, Init: init})
		}
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
	ps = append(ps,
		causal.Param{Name: "gpt_neox.final_layer_norm.weight", Shape: []int{d}, Init: one},
		causal.Param{Name: "gpt_neox.final_layer_norm.bias", Shape: []int{d}, Init: zero})
	if !c.TieWordEmbeddings {
		ps = append(ps, causal.Param{Name: "embed_out.weight", Shape: []int{c.VocabSize, d}, Init: w})
	}
	return ps
}

// Forward builds the forward pass: token embeddings, the blocks, the final
// LayerNorm and the unembedding.
func (a *Arch) Forward(w causal.Weights, in lm.Inputs, hook lm.Hook) *Node {
	c := a.Config()
	return causal.Stack{Layers: c.NumHiddenLayers, Embed: "gpt_neox.embed_in.weight", Unembed: "embed_out.weight",
		Block: a.block, Norm: transformer.Norm{Kind: transformer.LayerNormKind, Eps: c.LayerNormEps},
		NormWeight: "gpt_neox.final_layer_norm.weight", NormBias: "gpt_neox.final_layer_norm.bias"}.Forward(w, in, hook)
}

// block is decoder layer l.
func (a *Arch) block(w causal.Weights, l int, h *Node, ctx *transformer.Context, at transformer.At) *Node {
	c := a.Config()
	p := "gpt_neox.layers." + strconv.Itoa(l) + "."
	lin := func(name string) transformer.LinearWeights {
		return transformer.LinearWeights{W: w.Get(p + name + ".weight"), Bias: w.Opt(p + name + ".bias"), Layout: transformer.OutIn}
	}
	norm := func(name string) func(*Node) *Node {
		return func(x *Node) *Node {
			return transformer.LayerNorm(x, transformer.NormWeights{Weight: w.Get(p + name + ".weight"), Bias: w.Get(p + name + ".bias")}, c.LayerNormEps)
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
		qkv := Reshape(transformer.Linear(x, lin("attention.query_key_value")), b, s, nh, 3, hd)
		part := func(i int) *Node {
			return Reshape(Slice(qkv, AxisRange(), AxisRange(), AxisRange(), AxisElem(i), AxisRange()), b, s, nh*hd)
		}
		merged := transformer.Attention(attn, transformer.AttentionInputs{
			Query: part(0), Key: part(1), Value: part(2), Context: ctx, Layer: l}, at)
		return transformer.Output(merged, c.NumAttentionHeads, lin("attention.dense"), at)
	}
	mlp := func(x *Node) *Node {
		return transformer.MLP(x, act, transformer.MLPWeights{Up: lin("mlp.dense_h_to_4h"), Down: lin("mlp.dense_4h_to_h")}, at)
	}
	if c.UseParallelResidual {
		return transformer.Parallel{Norm1: norm("input_layernorm"), Attention: attention,
			Norm2: norm("post_attention_layernorm"), MLP: mlp}.Apply(h, at)
	}
	return transformer.PreNorm{Norm1: norm("input_layernorm"), Attention: attention,
		Norm2: norm("post_attention_layernorm"), MLP: mlp}.Apply(h, at)
}
