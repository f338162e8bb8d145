package causal

import (
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/bpe"
	"github.com/govene/govene/lm"
)

// Model is a decoder-only language model of one family: its architecture,
// its weights as tensors on a backend, its tokenizer (nil for checkpoints
// without tokenizer files) and its compiled forward passes. It implements
// lm.TextModel, lm.Resumer and lm.LayerSharer. A Model is safe for
// concurrent use.
type Model struct {
	arch    Arch
	specs   []Param
	index   map[string]int
	backend compute.Backend
	params  []*tensors.Tensor
	tok     *bpe.Tokenizer
	source  string
	from    []int // each block's first weight index; len Layers+1

	devices *lm.Devices

	runner  *lm.Runner
	decoder *lm.Decoder
}

var (
	_ lm.TextModel   = (*Model)(nil)
	_ lm.LayerSharer = (*Model)(nil)
	_ lm.Resumer     = (*Model)(nil)
	_ lm.Placed      = (*Model)(nil)
)

// Options configure how a model is created or loaded. The zero value uses
// backend.For with the model's size.
type Options struct {
	// Backend to place the weights on; nil means backend.For(Workload).
	Backend compute.Backend
	// Tokenizer overrides the checkpoint's tokenizer.
	Tokenizer *bpe.Tokenizer
	// Workload says what the model will run, for backend.For when Backend
	// is nil; its Params is filled in from the architecture.
	Workload backend.Workload
	// Devices lists the backend's devices that batched work (lm.Runner,
	// pv, sweeps) is split across; nil means lm.DefaultDevices' choice.
	// Listed devices are always used as given.
	Devices []int
}

// New builds a Model of arch whose weights fill writes: fill is called
// once per weight, in Params order, with a float32 buffer of the weight's
// size. source says where the weights come from (a folder, "random weights
// (seed 1)"). It returns fill's error, or an error when the backend cannot
// be chosen or the architecture lists a weight twice.
func New(arch Arch, opt Options, source string, fill func(p Param, dst []float32) error) (*Model, error) {
	b := opt.Backend
	if b == nil {
		w := opt.Workload
		if w.Params <= 0 {
			w.Params = NumParams(arch)
		}
		var err error
		if b, err = backend.For(w); err != nil {
			return nil, err
		}
	}
	devs, err := lm.ModelDevices(b, opt.Devices)
	if err != nil {
		return nil, fmt.Errorf("causal: %w", err)
	}
	m := &Model{arch: arch, specs: arch.Params(), backend: b, devices: devs, tok: opt.Tokenizer, source: source}
	m.index = make(map[string]int, len(m.specs))
	for i, p := range m.specs {
		if _, dup := m.index[p.Name]; dup {
			return nil, fmt.Errorf("causal: %s lists weight %q twice", arch.Family(), p.Name)
		}
		m.index[p.Name] = i
	}
	m.from = blockRanges(m.specs, arch.Dims().Layers)
	for _, p := range m.specs {
		t, err := m.newTensor(p)
		if err != nil {
			return nil, err
		}
		var ferr error
		if err := tensors.MutableFlatData(t, func(flat []float32) { ferr = fill(p, flat) }); err != nil {
			return nil, fmt.Errorf("causal: %s: %w", p.Name, err)
		}
		if ferr != nil {
			return nil, ferr
		}
		m.params = append(m.params, t)
	}
	m.runner = lm.NewRunner(m, m.PadID())
	m.decoder = &lm.Decoder{Model: m, EOS: arch.EOS()}
	return m, nil
}

// newTensor allocates p's float32 tensor, in the backend's own memory where
// it shares memory with the host (so loading holds one copy of the weights).
func (m *Model) newTensor(p Param) (*tensors.Tensor, error) {
	shape := shapes.Make(dtypes.Float32, p.Shape...)
	if !m.backend.HasSharedBuffers() {
		return tensors.FromShape(shape), nil
	}
	t, err := tensors.FromShapeForBackend(m.backend, 0, shape)
	if err != nil {
		return nil, fmt.Errorf("causal: %s: %w", p.Name, err)
	}
	return t, nil
}

// Random returns a model of arch with weights drawn as Params' Init say,
// deterministically from seed. The weights are random: predictions are
// meaningless.
func Random(arch Arch, seed uint64, opt Options) (*Model, error) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	return New(arch, opt, fmt.Sprintf("random weights (seed %d)", seed), func(p Param, dst []float32) error {
		for i := range dst {
			dst[i] = float32(p.Init.Mean + p.Init.Std*rng.NormFloat64())
		}
		return nil
	})
}

// NumParams returns the number of weights arch holds.
func NumParams(arch Arch) int64 {
	var n int64
	for _, p := range arch.Params() {
		k := int64(1)
		for _, d := range p.Shape {
			k *= int64(d)
		}
		n += k
	}
	return n
}

// blockRanges returns, for each block l, the index of its first weight
// (Param.Block), and the end of the last block; nil when the blocks are
// not contiguous.
func blockRanges(specs []Param, layers int) []int {
	from := make([]int, layers+1)
	for l := range from {
		from[l] = -1
	}
	last := -1
	for i, p := range specs {
		l := p.Block
		if l < 0 || l >= layers {
			continue
		}
		if from[l] < 0 {
			from[l] = i
		}
		last = i
	}
	from[layers] = last + 1
	for l := range layers {
		if from[l] < 0 || (l > 0 && from[l] < from[l-1]) {
			return nil
		}
	}
	return from
}

// Arch returns the model's architecture.
func (m *Model) Arch() Arch { return m.arch }

// Family returns the architecture's model_type ("llama", "gemma2", ...).
func (m *Model) Family() string { return m.arch.Family() }

// Dims returns the model's sizes.
func (m *Model) Dims() lm.Dims { return m.arch.Dims() }

// Backend returns the compute backend the weights live on.
func (m *Model) Backend() compute.Backend { return m.backend }

// Devices returns the devices the model's batched work is split across
// (Options.Devices); its weights live on the backend's device 0 and are
// copied to the others on first use.
func (m *Model) Devices() *lm.Devices { return m.devices }

// Params returns the weights in Arch.Params order. The tensors are shared,
// not copies.
func (m *Model) Params() []*tensors.Tensor { return m.params }

// ParamNames returns the Hugging Face names of Params(), in order.
func (m *Model) ParamNames() []string {
	names := make([]string, len(m.specs))
	for i, p := range m.specs {
		names[i] = p.Name
	}
	return names
}

// NumParams returns the number of weights.
func (m *Model) NumParams() int64 { return NumParams(m.arch) }

// Tokenizer returns the model's tokenizer, or nil when the checkpoint had
// none.
func (m *Model) Tokenizer() *bpe.Tokenizer { return m.tok }

// Source returns where the model was loaded from (a folder), or a
// description such as "random weights (seed 1)".
func (m *Model) Source() string { return m.source }

// String describes the model in one line.
func (m *Model) String() string {
	return fmt.Sprintf("%s, %.2fM params, from %s", m.arch, float64(m.NumParams())/1e6, m.source)
}

// PadID returns the token id placed in padded slots: the end-of-sequence
// token, or 0.
func (m *Model) PadID() int {
	if e := m.arch.EOS(); e >= 0 && e < m.Dims().Vocab {
		return e
	}
	return 0
}

// BuildForward builds the forward pass on params (nodes for Params(), same
// order), calling hook at every site; see lm.Model.
func (m *Model) BuildForward(params []*graph.Node, in lm.Inputs, hook lm.Hook) *graph.Node {
	return m.arch.Forward(Weights{nodes: params, index: m.index}, in, hook)
}

// Resumes reports that BuildForward honours Inputs.StartLayer and Residual.
func (m *Model) Resumes() bool { return true }

// LayerParams returns the range of block l's weights in Params(); ok is
// false for l out of range and for architectures whose blocks differ in
// more than their weights. See lm.LayerSharer.
func (m *Model) LayerParams(l int) (from, to int, ok bool) {
	if m.from == nil || l < 0 || l >= len(m.from)-1 || !m.arch.SharesLayers() {
		return 0, 0, false
	}
	return m.from[l], m.from[l+1], true
}

// Encode tokenizes text with the model's tokenizer. A model without a
// tokenizer returns a prompt with the text and no ids (which Run refuses
// as empty).
func (m *Model) Encode(text string) lm.Prompt {
	if m.tok == nil {
		return lm.Prompt{Text: text}
	}
	ids := m.tok.Encode(text)
	return lm.Prompt{Text: text, IDs: ids, Tokens: m.tok.Tokens(ids)}
}

// TokenID returns the id of a single-token string such as " Paris" and
// whether the tokenizer has it as one token (false without a tokenizer).
func (m *Model) TokenID(token string) (int, bool) {
	if m.tok == nil {
		return 0, false
	}
	return m.tok.ID(token)
}

// TokenString returns token id's text, or "" when out of range or the
// model has no tokenizer.
func (m *Model) TokenString(id int) string {
	if m.tok == nil {
		return ""
	}
	return m.tok.Token(id)
}
