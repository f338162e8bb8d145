// Package lm is the small interface between the intervention library (pv) and
// the language models it intervenes on (gpt2, and later other families).
//
// A model exposes named hook sites: places in its forward graph where a value
// can be read or replaced. A Hook is called at every site while the graph is
// built; it returns the value the rest of the forward pass should use, so an
// intervention is a graph node spliced in at that site. Because hooks run while
// the graph is built, not while it executes, an intervention costs nothing when
// it is not configured and compiles together with the model.
package lm

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Component names a kind of hook site. The per-layer names are pyvene's GPT-2
// component names; the rest follow TransformerLens.
type Component string

// Per-layer components, with pyvene's names and meaning.
const (
	BlockInput               Component = "block_input"                 // residual stream entering block l [b,s,d]
	BlockOutput              Component = "block_output"                // residual stream leaving block l [b,s,d]
	AttentionInput           Component = "attention_input"             // ln_1 output [b,s,d]
	QueryOutput              Component = "query_output"                // queries [b,s,d]
	KeyOutput                Component = "key_output"                  // keys [b,s,d]
	ValueOutput              Component = "value_output"                // values [b,s,d]
	HeadQueryOutput          Component = "head_query_output"           // queries per head [b,h,s,d/h]
	HeadKeyOutput            Component = "head_key_output"             // keys per head [b,h,s,d/h]
	HeadValueOutput          Component = "head_value_output"           // values per head [b,h,s,d/h]
	AttentionWeight          Component = "attention_weight"            // softmax probabilities [b,h,s,s]
	AttentionValueOutput     Component = "attention_value_output"      // merged heads before c_proj [b,s,d]
	HeadAttentionValueOutput Component = "head_attention_value_output" // per head before merge [b,h,s,d/h]
	AttentionOutput          Component = "attention_output"            // after c_proj, before the residual add [b,s,d]
	MLPInput                 Component = "mlp_input"                   // ln_2 output [b,s,d]
	MLPActivation            Component = "mlp_activation"              // activation output [b,s,inner]
	MLPOutput                Component = "mlp_output"                  // MLP output before the residual add [b,s,d]

	// Beyond pyvene (TransformerLens has them).
	ResidMid        Component = "resid_mid"        // residual after the attention add, before ln_2 [b,s,d]
	AttentionScores Component = "attention_scores" // scaled q·k before masking and softmax [b,h,s,s]
)

// Global (not per-layer) components.
const (
	Embed    Component = "embed"     // token embeddings [b,s,d]
	PosEmbed Component = "pos_embed" // position embeddings [b,s,d]
	LNFinal  Component = "ln_final"  // final layer norm output [b,s,d]
	Logits   Component = "logits"    // unembedded logits [b,s,vocab]
)

// LayerComponents lists the per-layer components in the order a forward pass
// reaches them.
var LayerComponents = []Component{
	BlockInput, AttentionInput,
	QueryOutput, KeyOutput, ValueOutput,
	HeadQueryOutput, HeadKeyOutput, HeadValueOutput,
	AttentionScores, AttentionWeight,
	HeadAttentionValueOutput, AttentionValueOutput, AttentionOutput,
	ResidMid, MLPInput, MLPActivation, MLPOutput, BlockOutput,
}

// GlobalComponents lists the components that exist once per model.
var GlobalComponents = []Component{Embed, PosEmbed, LNFinal, Logits}

// IsGlobal reports whether c exists once per model rather than per layer.
func (c Component) IsGlobal() bool { return slices.Contains(GlobalComponents, c) }

// IsHead reports whether c is laid out per head, [b,h,s,...].
func (c Component) IsHead() bool {
	switch c {
	case HeadQueryOutput, HeadKeyOutput, HeadValueOutput, HeadAttentionValueOutput,
		AttentionWeight, AttentionScores:
		return true
	}
	return false
}

// Valid reports whether c is a known component.
func (c Component) Valid() bool {
	return slices.Contains(LayerComponents, c) || slices.Contains(GlobalComponents, c)
}

// ComponentNames returns every valid component name, for error messages.
func ComponentNames() []string {
	var names []string
	for _, c := range LayerComponents {
		names = append(names, string(c))
	}
	for _, c := range GlobalComponents {
		names = append(names, string(c))
	}
	return names
}

// Site is one hook point: a component at a layer. Global components have
// Layer -1.
type Site struct {
	Layer     int
	Component Component
}

// String returns the site's name: "blocks.3.block_output" for per-layer sites,
// the component name for global ones.
func (s Site) String() string {
	if s.Component.IsGlobal() {
		return string(s.Component)
	}
	return "blocks." + strconv.Itoa(s.Layer) + "." + string(s.Component)
}

// ParseSite parses a site name as String writes it ("blocks.3.block_output",
// "embed"). An unknown component or a malformed layer is an error that names
// the valid forms.
func ParseSite(name string) (Site, error) {
	if c := Component(name); c.IsGlobal() {
		return Site{Layer: -1, Component: c}, nil
	}
	rest, ok := strings.CutPrefix(name, "blocks.")
	if !ok {
		return Site{}, fmt.Errorf("lm: site %q: want \"blocks.LAYER.COMPONENT\" or one of %v", name, GlobalComponents)
	}
	layerStr, comp, ok := strings.Cut(rest, ".")
	layer, err := strconv.Atoi(layerStr)
	if !ok || err != nil || layer < 0 {
		return Site{}, fmt.Errorf("lm: site %q: layer %q is not a non-negative integer", name, layerStr)
	}
	c := Component(comp)
	if !slices.Contains(LayerComponents, c) {
		return Site{}, fmt.Errorf("lm: site %q: unknown component %q; valid per-layer components: %v", name, comp, LayerComponents)
	}
	return Site{Layer: layer, Component: c}, nil
}

// Hook is called at every site while a forward graph is built. It returns the
// value the rest of the forward pass uses: x itself to only read the site, or a
// new node of the same shape to replace it. A nil Hook leaves every site alone.
type Hook func(site Site, x *graph.Node) *graph.Node

// Inputs are the graph nodes of one batch of token sequences, left-padded to
// a common length s: IDs [b,s] int32, Mask [b,s] float32 (1 for tokens, 0 for
// padding) and Positions [b,s] int32.
type Inputs struct {
	IDs, Mask, Positions *graph.Node
	// Cache, when set, makes the pass incremental: the s new tokens attend
	// to the cached keys and values as well as to each other, and are written
	// into the cache. See KVCache.
	Cache *KVCache
	// LastOnly asks for the logits of the last position only ([b,1,vocab]):
	// with left padding that is every example's next-token prediction, and
	// it spares the unembedding of the other positions. The hook then sees
	// ln_final and logits for the last position only.
	LastOnly bool
	// StartLayer and Residual resume a pass in the middle: the blocks below
	// StartLayer are skipped and Residual [b,s,d] is the residual stream
	// entering block StartLayer (IDs may then be nil, and Positions too for
	// models with learned positions; rotary models need them). With a
	// Cache holding earlier positions' keys and values, a sweep recomputes
	// only what a patch can change. Models that support it implement
	// Resumer.
	StartLayer int
	Residual   *graph.Node
	// EndLayer, when positive, stops the pass after block EndLayer-1: the
	// model returns the residual stream leaving it, [b,s,d], instead of
	// logits (no final layer norm, no unembedding). With Residual set and
	// EndLayer = StartLayer+1 a graph runs exactly one block.
	EndLayer int
}

// LayerSharer is implemented by models whose blocks are one function of
// their own weights, so that a graph built for one block serves every
// block: BuildForward with Residual set, StartLayer l and EndLayer l+1
// reads only Params()[from:to] as given by LayerParams(l), and the graph
// built for block 0 computes block l when it is fed block l's weights in
// block 0's slots. ok is false when the model's blocks differ by more than
// their weights (GPT-2 with scale_attn_by_inverse_layer_idx), or l is out
// of range. Sweeps use it to compile one block instead of one graph per
// starting layer.
type LayerSharer interface {
	LayerParams(l int) (from, to int, ok bool)
}

// Resumer is implemented by models whose BuildForward honours
// Inputs.StartLayer and Inputs.Residual.
type Resumer interface {
	Resumes() bool
}

// KVCache holds attention keys and values of earlier tokens for incremental
// decoding. Keys and Values are per layer [b,kv_heads,L,head_dim] for a
// cache of L slots (Dims.KVHeadCount() heads; rotary models store the
// rotated keys). Mask [b,L] float32 is 1 for slots holding a real token, including
// the slots the new tokens are written to. Start (int32 scalar) is the slot
// of the first new token; new token q sits at slot Start+q and attends to
// slots up to its own. After BuildForward, Keys and Values hold the updated
// caches (new nodes).
type KVCache struct {
	Keys, Values []*graph.Node
	Mask         *graph.Node
	Start        *graph.Node
}

// Dims are a model's sizes.
type Dims struct {
	Layers int `json:"layers"`
	Heads  int `json:"heads"` // query heads
	// KVHeads is the number of key/value heads: Heads for multi-head
	// attention, fewer for grouped-query attention; 0 means Heads.
	KVHeads int `json:"kv_heads,omitempty"`
	Hidden  int `json:"hidden"`
	// HeadDim is the size of one head, which need not be Hidden/Heads.
	HeadDim int `json:"head_dim"`
	Inner   int `json:"inner"` // MLP hidden width
	Vocab   int `json:"vocab"`
	// InputVocab is the number of valid input ids when it differs from
	// Vocab (the logits' width); 0 means Vocab.
	InputVocab int `json:"input_vocab,omitempty"`
	Positions  int `json:"positions"` // longest sequence the model accepts
}

// Width returns the last-axis size of component c's value: the head size
// for head components, Heads*HeadDim for queries and the merged heads,
// KVHeads*HeadDim for keys and values, the MLP width for mlp_activation, the
// vocabulary for logits, the hidden size otherwise (for GPT-2 Heads*HeadDim
// and KVHeads*HeadDim are the hidden size). With HeadDim 0 the attention
// widths are the hidden size. For attention_weight and attention_scores the
// last axis is the key position, whose size depends on the sequence; Width
// returns -1 for them.
func (d Dims) Width(c Component) int {
	switch c {
	case AttentionWeight, AttentionScores:
		return -1
	case HeadQueryOutput, HeadKeyOutput, HeadValueOutput, HeadAttentionValueOutput:
		return d.HeadDim
	case QueryOutput, AttentionValueOutput:
		if d.HeadDim > 0 {
			return d.Heads * d.HeadDim
		}
	case KeyOutput, ValueOutput:
		if d.HeadDim > 0 {
			return d.KVHeadCount() * d.HeadDim
		}
	case MLPActivation:
		return d.Inner
	case Logits:
		return d.Vocab
	}
	return d.Hidden
}

// KVHeadCount returns KVHeads, or Heads when KVHeads is 0.
func (d Dims) KVHeadCount() int {
	if d.KVHeads > 0 {
		return d.KVHeads
	}
	return d.Heads
}

// HeadCount returns the size of component c's head axis: KVHeadCount() for
// head_key_output and head_value_output, Heads for the other head
// components, and 0 for components with no head axis.
func (d Dims) HeadCount(c Component) int {
	switch {
	case c == HeadKeyOutput || c == HeadValueOutput:
		return d.KVHeadCount()
	case c.IsHead():
		return d.Heads
	}
	return 0
}

// CheckSite returns an error when s is not a site of a model with these
// dimensions, naming the valid components or layer range.
func (d Dims) CheckSite(s Site) error {
	if !s.Component.Valid() {
		return fmt.Errorf("lm: unknown component %q; valid components: %v", s.Component, ComponentNames())
	}
	if s.Component.IsGlobal() {
		return nil
	}
	if s.Layer < 0 || s.Layer >= d.Layers {
		return fmt.Errorf("lm: site %s: layer %d out of range [0, %d)", s, s.Layer, d.Layers)
	}
	return nil
}

// Model is what pv needs of a language model: its sizes, its parameters as
// tensors and a function that builds its forward graph with hooks.
//
// Params are passed to the graph as ordinary inputs (in the order Params
// returns them), so one compiled executable serves any weights of the same
// shapes and pv can add its own inputs after them.
type Model interface {
	// Dims returns the model's sizes.
	Dims() Dims
	// Backend returns the compute backend the model's tensors live on.
	Backend() compute.Backend
	// Params returns the model's weights, in a fixed order.
	Params() []*tensors.Tensor
	// PadID returns the token id placed in padded slots of a batch.
	PadID() int
	// BuildForward builds the forward pass on params (nodes for Params(), same
	// order) and in, calling hook at each site in the order the pass reaches
	// them, and returns the logits [b,s,vocab]. It panics (inside graph
	// building, where GoMLX recovers panics into errors) on shape mismatches.
	BuildForward(params []*graph.Node, in Inputs, hook Hook) *graph.Node
}

// Tokenizer turns text into prompts and tokens into text, with the model's
// own vocabulary.
type Tokenizer interface {
	// Encode tokenizes text.
	Encode(text string) Prompt
	// TokenID returns the id of a single-token string such as " Paris" and
	// whether the vocabulary has it as one token.
	TokenID(token string) (int, bool)
	// TokenString returns token id's text, or "" when id is out of range.
	TokenString(id int) string
}

// TextModel is a Model with its Tokenizer: what tools that start from text
// (causal tracing, the command line) need.
type TextModel interface {
	Model
	Tokenizer
}
