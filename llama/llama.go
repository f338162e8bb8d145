// Package llama holds Llama (1, 2, 3 and 3.1 with its rope scaling),
// Mistral (sliding-window attention) and Qwen2 (q/k/v biases, tied
// embeddings): grouped-query attention with rotary positions, RMSNorm and a
// SwiGLU MLP, pre-norm blocks. Models are *causal.Model.
package llama

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

// Family returns the model_type: "llama", "mistral" or "qwen2".
func (a *Arch) Family() string { return a.Config().ModelType }

// Dims returns the model's sizes; rotary models have no pos_embed site.
func (a *Arch) Dims() lm.Dims {
	c := a.Config()
	return lm.Dims{Layers: c.NumHiddenLayers, Heads: c.NumAttentionHeads, KVHeads: c.KVHeads(),
		Hidden: c.HiddenSize, HeadDim: c.HeadSize(), Inner: c.IntermediateSize, Vocab: c.VocabSize,
		Positions: c.MaxPositionEmbeddings, Absent: []lm.Component{lm.PosEmbed}}
}

// EOS returns eos_token_id (the first when it is a list), or -1.
func (a *Arch) EOS() int { return int(a.Config().EOSTokenID) }

// String describes the architecture.
func (a *Arch) String() string {
	c := a.Config()
	name := map[string]string{"llama": "Llama", "mistral": "Mistral", "qwen2": "Qwen2"}[c.ModelType]
	return fmt.Sprintf("%s %d layers, %d heads (%d kv), d=%d, vocab %d", name, c.NumHiddenLayers,
		c.NumAttentionHeads, c.KVHeads(), c.HiddenSize, c.VocabSize)
}

// ConfigJSON returns the config.json Save writes.
func (a *Arch) ConfigJSON() ([]byte, error) { return a.Config().configJSON() }

// SharesLayers reports whether every block has the same attention window.
func (a *Arch) SharesLayers() bool {
	return causal.SameWindows(a.Config().NumHiddenLayers, a.Config().Window)
}

func (a *Arch) qkvBias() bool { return a.Config().ModelType == "qwen2" || a.Config().AttentionBias }
func (a *Arch) oBias() bool   { return a.Config().ModelType != "qwen2" && a.Config().AttentionBias }

// Params lists the weights with transformers' names: the embedding, each
// layer's norms, projections and MLP, the final norm and (untied) lm_head.
func (a *Arch) Params() []causal.Param {
	return a.stack().Params()
}

// layerParams lists one block's weights: norms, projections and MLP.
func (a *Arch) layerParams(add func(name string, init causal.Init, shape ...int)) {
	c := a.Config()
	d, q, kv, in := c.HiddenSize, c.NumAttentionHeads*c.HeadSize(), c.KVHeads()*c.HeadSize(), c.IntermediateSize
	w, one, zero := causal.Normal(c.InitializerRange), causal.Fill(1), causal.Fill(0)
	add("input_layernorm.weight", one, d)
	for _, proj := range []struct {
		name string
		out  int
	}{{"q_proj", q}, {"k_proj", kv}, {"v_proj", kv}} {
		add("self_attn."+proj.name+".weight", w, proj.out, d)
		if a.qkvBias() {
			add("self_attn."+proj.name+".bias", zero, proj.out)
		}
	}
	add("self_attn.o_proj.weight", w, d, q)
	if a.oBias() {
		add("self_attn.o_proj.bias", zero, d)
	}
	add("post_attention_layernorm.weight", one, d)
	for _, proj := range []struct {
		name    string
		out, in int
	}{{"gate_proj", in, d}, {"up_proj", in, d}, {"down_proj", d, in}} {
		add("mlp."+proj.name+".weight", w, proj.out, proj.in)
		if c.MLPBias {
			add("mlp."+proj.name+".bias", zero, proj.out)
		}
	}
}

// stack is the frame Params and Forward share.
func (a *Arch) stack() causal.Stack {
	c := a.Config()
	return causal.Stack{Names: causal.ModelNames, Layers: c.NumHiddenLayers, Vocab: c.VocabSize, Hidden: c.HiddenSize,
		Init: causal.Normal(c.InitializerRange), NormInit: causal.Fill(1), Tied: c.TieWordEmbeddings,
		LayerParams: a.layerParams, Block: a.block, Norm: transformer.Norm{Kind: transformer.RMSNormKind, Eps: c.RMSNormEps}}
}

// Forward builds the forward pass: token embeddings, pre-norm blocks of
// rotary grouped-query attention and a gated MLP, the final RMSNorm and
// the unembedding.
func (a *Arch) Forward(w causal.Weights, in lm.Inputs, hook lm.Hook) *Node {
	return a.stack().Forward(w, in, hook)
}

// block is decoder layer l.
func (a *Arch) block(w causal.Layer, l int, h *Node, ctx *transformer.Context, at transformer.At) *Node {
	c := a.Config()
	rot := rotary(a.Rope(), c.HeadSize())
	attn := transformer.AttentionConfig{Heads: c.NumAttentionHeads, KVHeads: c.KVHeads(), HeadDim: c.HeadSize(),
		Window: c.Window(l), Rotary: &rot}
	act, _ := activation(c.HiddenAct) // Validate checked it
	return transformer.PreNorm{
		Norm1: func(x *Node) *Node {
			return transformer.RMSNorm(x, w.Get("input_layernorm.weight"), c.RMSNormEps, false)
		},
		Attention: func(x *Node) *Node {
			merged := transformer.Attention(attn, transformer.AttentionInputs{
				Query: transformer.Linear(x, w.Linear("self_attn.q_proj")), Key: transformer.Linear(x, w.Linear("self_attn.k_proj")),
				Value: transformer.Linear(x, w.Linear("self_attn.v_proj")), Context: ctx, Layer: l}, at)
			return transformer.Output(merged, c.NumAttentionHeads, w.Linear("self_attn.o_proj"), at)
		},
		Norm2: func(x *Node) *Node {
			return transformer.RMSNorm(x, w.Get("post_attention_layernorm.weight"), c.RMSNormEps, false)
		},
		MLP: func(x *Node) *Node {
			return transformer.MLP(x, act, transformer.MLPWeights{Gate: w.Linear("mlp.gate_proj"), Up: w.Linear("mlp.up_proj"), Down: w.Linear("mlp.down_proj")}, at)
		},
	}.Apply(h, at)
}

// rotary converts resolved rope settings for heads of headDim dimensions.
func rotary(r causal.Rope, headDim int) transformer.Rotary {
	dims := int(float64(headDim) * r.Partial)
	dims -= dims % 2
	return transformer.Rotary{Theta: r.Theta, Dims: dims, Scaling: transformer.RopeScaling(r.Scaling)}
}

// activation parses hidden_act.
func activation(name string) (transformer.Activation, error) {
	return transformer.ParseActivation(name)
}
