// Package mlp is a small multilayer perceptron over token embeddings that
// implements lm.Model, so pv's interventions and DAS training work on it as
// on GPT-2. It reproduces the model of pyvene's DAS introduction: each
// input token is embedded, the embeddings are concatenated, and ReLU layers
// lead to class logits. Its hook sites are block_output at each hidden
// layer, [b,1,hidden] (one "position"), and the logits.
package mlp

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// Config describes the network.
type Config struct {
	Vocab   int `json:"vocab"`   // number of distinct input tokens
	Embed   int `json:"embed"`   // embedding width per token
	Inputs  int `json:"inputs"`  // tokens per example
	Hidden  int `json:"hidden"`  // width of each hidden layer
	Layers  int `json:"layers"`  // hidden layers
	Classes int `json:"classes"` // output classes
}

// Validate returns an error naming the first bad field.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab", c.Vocab}, {"embed", c.Embed}, {"inputs", c.Inputs}, {"hidden", c.Hidden}, {"layers", c.Layers}, {"classes", c.Classes}} {
		if f.v <= 0 {
			return fmt.Errorf("mlp: config: %s %d must be positive", f.name, f.v)
		}
	}
	return nil
}

// Model is an MLP implementing lm.Model.
type Model struct {
	cfg     Config
	backend compute.Backend
	params  []*tensors.Tensor
}

var _ lm.Model = (*Model)(nil)

// New returns a model with weights initialized as torch.nn.Linear does
// (uniform ±1/sqrt(fan_in)) and embeddings drawn uniformly in [-1, 1] (the
// fixed random vectors of pyvene's tutorial), deterministically from seed.
func New(cfg Config, b compute.Backend, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x3a9))
	uniform := func(n int, bound float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((rng.Float64()*2 - 1) * bound)
		}
		return v
	}
	m := &Model{cfg: cfg, backend: b}
	m.params = append(m.params, tensors.FromFlatDataAndDimensions(uniform(cfg.Vocab*cfg.Embed, 1), cfg.Vocab, cfg.Embed))
	in := cfg.Inputs * cfg.Embed
	for l := range cfg.Layers + 1 {
		out := cfg.Hidden
		if l == cfg.Layers {
			out = cfg.Classes
		}
		bound := 1 / math.Sqrt(float64(in))
		m.params = append(m.params, tensors.FromFlatDataAndDimensions(uniform(in*out, bound), in, out),
			tensors.FromFlatDataAndDimensions(uniform(out, bound), out))
		in = out
	}
	return m, nil
}

// SetParams replaces the weights (for example after training); they must
// have the shapes of Params().
func (m *Model) SetParams(ps []*tensors.Tensor) error {
	if len(ps) != len(m.params) {
		return fmt.Errorf("mlp: %d params, want %d", len(ps), len(m.params))
	}
	for i, p := range ps {
		if !p.Shape().Equal(m.params[i].Shape()) {
			return fmt.Errorf("mlp: param %d has shape %s, want %s", i, p.Shape(), m.params[i].Shape())
		}
	}
	m.params = ps
	return nil
}

// Config returns the configuration.
func (m *Model) Config() Config { return m.cfg }

// Dims reports the sizes pv needs: Layers hidden layers of width Hidden,
// Classes as the vocabulary, Inputs positions.
func (m *Model) Dims() lm.Dims {
	return lm.Dims{Layers: m.cfg.Layers, Heads: 1, KVHeads: 1, Hidden: m.cfg.Hidden, HeadDim: m.cfg.Hidden,
		Inner: m.cfg.Hidden, Vocab: m.cfg.Classes, InputVocab: m.cfg.Vocab, Positions: m.cfg.Inputs}
}

// Backend returns the backend.
func (m *Model) Backend() compute.Backend { return m.backend }

// Params returns the embeddings, then each layer's weight and bias.
func (m *Model) Params() []*tensors.Tensor { return m.params }

// PadID is 0: examples always have Inputs tokens, so nothing is padded.
func (m *Model) PadID() int { return 0 }

// BuildForward embeds the tokens, concatenates them, applies the hidden
// ReLU layers (hook site block_output at each, [b,1,hidden]) and returns
// class logits repeated at every input position ([b,s,classes]), so the
// logits "after the last token" are the prediction.
func (m *Model) BuildForward(params []*graph.Node, in lm.Inputs, hook lm.Hook) *graph.Node {
	if hook == nil {
		hook = func(_ lm.Site, x *graph.Node) *graph.Node { return x }
	}
	dims := in.IDs.Shape().Dimensions
	b, s := dims[0], dims[1]
	x := graph.Gather(params[0], graph.ExpandAxes(in.IDs, -1)) // [b,s,e]
	x = graph.Reshape(x, b, s*m.cfg.Embed)
	for l := range m.cfg.Layers + 1 {
		w, bias := params[1+2*l], params[2+2*l]
		x = graph.Add(graph.MatMul(x, w), graph.ExpandAxes(bias, 0))
		if l == m.cfg.Layers {
			break
		}
		x = graph.Max(x, graph.ZerosLike(x))
		h := hook(lm.Site{Layer: l, Component: lm.BlockOutput}, graph.Reshape(x, b, 1, m.cfg.Hidden))
		x = graph.Reshape(h, b, m.cfg.Hidden)
	}
	logits := graph.Reshape(x, b, 1, m.cfg.Classes)
	if !in.LastOnly {
		logits = graph.BroadcastToDims(logits, b, s, m.cfg.Classes)
	}
	return hook(lm.Site{Layer: -1, Component: lm.Logits}, logits)
}
