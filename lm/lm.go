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
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene"
)

// The plain data of sites, prompts, sizes and sampling lives in package
// govene, so that programs that only talk to a session need no GoMLX; lm
// names it here so that existing code reads as before.

// Component names a kind of hook site; see govene.Component.
type Component = govene.Component

// Site is one hook point: a component at a layer; see govene.Site.
type Site = govene.Site

// Dims are a model's sizes; see govene.Dims.
type Dims = govene.Dims

// Prompt is one tokenized text; see govene.Prompt.
type Prompt = govene.Prompt

// Sampling configures how Generate picks tokens; see govene.Sampling.
type Sampling = govene.Sampling

// The components, as govene names them.
const (
	BlockInput               = govene.BlockInput
	BlockOutput              = govene.BlockOutput
	AttentionInput           = govene.AttentionInput
	QueryOutput              = govene.QueryOutput
	KeyOutput                = govene.KeyOutput
	ValueOutput              = govene.ValueOutput
	HeadQueryOutput          = govene.HeadQueryOutput
	HeadKeyOutput            = govene.HeadKeyOutput
	HeadValueOutput          = govene.HeadValueOutput
	AttentionWeight          = govene.AttentionWeight
	AttentionValueOutput     = govene.AttentionValueOutput
	HeadAttentionValueOutput = govene.HeadAttentionValueOutput
	HeadResult               = govene.HeadResult
	AttentionOutput          = govene.AttentionOutput
	MLPInput                 = govene.MLPInput
	MLPActivation            = govene.MLPActivation
	MLPPost                  = govene.MLPPost
	MLPOutput                = govene.MLPOutput
	ResidMid                 = govene.ResidMid
	AttentionScores          = govene.AttentionScores
	Embed                    = govene.Embed
	PosEmbed                 = govene.PosEmbed
	LNFinalScale             = govene.LNFinalScale
	LNFinal                  = govene.LNFinal
	Logits                   = govene.Logits
)

// LayerComponents lists the per-layer components in the order a forward
// pass reaches them: the same slice as govene.LayerComponents.
var LayerComponents = govene.LayerComponents

// GlobalComponents lists the components that exist once per model: the
// same slice as govene.GlobalComponents.
var GlobalComponents = govene.GlobalComponents

// ComponentNames returns every valid component name, for error messages.
func ComponentNames() []string { return govene.ComponentNames() }

// ParseSite parses a site name as Site.String writes it; see
// govene.ParseSite for the errors.
func ParseSite(name string) (Site, error) { return govene.ParseSite(name) }

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
