package causal

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene/lm"
)

// Arch is one family's architecture for one configuration: what Model
// needs to hold, run and save it.
type Arch interface {
	// Family names the architecture as config.json's model_type does
	// ("gpt_neox", "llama", "mistral", "qwen2", "gemma2").
	Family() string
	// Dims returns the model's sizes, with the components it lacks in
	// Dims.Absent.
	Dims() lm.Dims
	// Params lists the weights by Hugging Face name, in the order Forward
	// takes them; each block's weights are contiguous and in the same order
	// for every block.
	Params() []Param
	// Forward builds the forward pass on the weights w, calling hook at
	// every site (see lm.Model.BuildForward), and returns the logits.
	Forward(w Weights, in lm.Inputs, hook lm.Hook) *graph.Node
	// SharesLayers reports whether every block is the same function of its
	// own weights (see lm.LayerSharer): false when blocks differ in more
	// than their weights, such as alternating sliding-window layers.
	SharesLayers() bool
	// ConfigJSON returns the config.json Save writes (transformers reads it
	// back).
	ConfigJSON() ([]byte, error)
	// EOS returns the end-of-sequence token id, or -1 when the config has
	// none.
	EOS() int
	// String describes the architecture in a few words ("Llama 2 layers,
	// 4 heads (2 kv), d=32").
	String() string
}

// Param is one weight: its Hugging Face name, its shape and how Random
// initialises it.
type Param struct {
	Name  string
	Shape []int
	Init  Init
	// Block is the block the weight belongs to, or -1 for the weights
	// outside the blocks (embeddings, the final norm, the unembedding).
	Block int
}

// Init says how Random fills a weight.
type Init struct {
	// Std is the standard deviation of a normal draw (mean Mean); 0 fills
	// every value with Mean.
	Std, Mean float64
}

// Normal is the usual init of projections and embeddings: N(0, std²).
func Normal(std float64) Init { return Init{Std: std} }

// Fill fills a weight with v (1 for norm gains, 0 for biases).
func Fill(v float64) Init { return Init{Mean: v} }

// Weights are the weight nodes of one forward graph, looked up by Hugging
// Face name.
type Weights struct {
	nodes []*graph.Node
	index map[string]int
}

// Get returns the node of the weight called name. It panics (while the
// graph is built, where GoMLX turns panics into errors) when the
// architecture has no such weight: a bug in the family's wiring.
func (w Weights) Get(name string) *graph.Node {
	i, ok := w.index[name]
	if !ok {
		panic(fmt.Errorf("causal: the architecture has no weight %q", name))
	}
	return w.nodes[i]
}

// Has reports whether the architecture has a weight called name (optional
// biases, an untied output embedding).
func (w Weights) Has(name string) bool {
	_, ok := w.index[name]
	return ok
}

// Opt returns the weight called name, or nil when there is none.
func (w Weights) Opt(name string) *graph.Node {
	if i, ok := w.index[name]; ok {
		return w.nodes[i]
	}
	return nil
}
