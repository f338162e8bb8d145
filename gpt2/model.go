package gpt2

import (
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/bpe"
	"github.com/govene/govene/lm"
)

// Model is a GPT-2 language model: its configuration, its weights as tensors
// on a backend, a tokenizer and a cache of compiled forward graphs. It
// implements lm.Model. A Model is safe for concurrent use.
type Model struct {
	cfg     Config
	backend compute.Backend
	params  []*tensors.Tensor
	tok     *bpe.Tokenizer
	source  string

	devices *lm.Devices

	runner  *lm.Runner
	decoder *lm.Decoder
}

var (
	_ lm.TextModel   = (*Model)(nil)
	_ lm.LayerSharer = (*Model)(nil)
	_ lm.Placed      = (*Model)(nil)
)

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Dims returns the model's sizes.
func (m *Model) Dims() lm.Dims {
	c := m.cfg
	return lm.Dims{Layers: c.NLayer, Heads: c.NHead, KVHeads: c.NHead, Hidden: c.NEmbd, HeadDim: c.HeadDim(),
		Inner: c.Inner(), Vocab: c.VocabSize, Positions: c.NPositions}
}

// Family returns "gpt2", config.json's model_type for GPT-2.
func (m *Model) Family() string { return "gpt2" }

// Backend returns the compute backend the weights live on.
func (m *Model) Backend() compute.Backend { return m.backend }

// Devices returns the devices the model's batched work is split across
// (Options.Devices); its weights live on the backend's device 0 and are
// copied to the others on first use.
func (m *Model) Devices() *lm.Devices { return m.devices }

// Params returns the weights in the order BuildForward takes them: wte, wpe,
// then for each layer ln_1 (weight, bias), c_attn, c_proj, ln_2, c_fc,
// mlp.c_proj, and finally ln_f. The tensors are shared, not copies.
func (m *Model) Params() []*tensors.Tensor { return m.params }

// ParamNames returns the Hugging Face names of Params(), in order.
func (m *Model) ParamNames() []string {
	specs := m.cfg.paramSpecs()
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.name
	}
	return names
}

// Tokenizer returns the model's tokenizer: the checkpoint's own when it has
// tokenizer files, else GPT-2's.
func (m *Model) Tokenizer() *bpe.Tokenizer { return m.tok }

// Source returns where the model was loaded from (a folder), or a
// description such as "random (seed 1)".
func (m *Model) Source() string { return m.source }

// String describes the model in one line.
func (m *Model) String() string {
	c := m.cfg
	return fmt.Sprintf("GPT-2 %d layers, %d heads, d=%d, vocab %d, %.1fM params, from %s",
		c.NLayer, c.NHead, c.NEmbd, c.VocabSize, float64(c.NumParams())/1e6, m.source)
}

// NumParams returns the number of weights (the tied unembedding counted
// once). For a Config that fails Validate the count may be meaningless (it
// is computed without overflow checks), but NumParams never panics.
func (c Config) NumParams() int {
	d, inner := c.NEmbd, c.Inner()
	// Per layer: ln_1 and ln_2 (4d), c_attn (3d*d + 3d), attn.c_proj
	// (d*d + d), c_fc (d*inner + inner), mlp.c_proj (inner*d + d).
	perLayer := 4*d*d + 2*d*inner + 9*d + inner
	return c.VocabSize*d + c.NPositions*d + c.NLayer*perLayer + 2*d
}

// numParamsFloat is NumParams in float64, which cannot overflow.
func (c Config) numParamsFloat() float64 {
	d, inner := float64(c.NEmbd), float64(c.Inner())
	perLayer := 4*d*d + 2*d*inner + 9*d + inner
	return float64(c.VocabSize)*d + float64(c.NPositions)*d + float64(c.NLayer)*perLayer + 2*d
}

// Encode tokenizes text with the model's tokenizer.
func (m *Model) Encode(text string) lm.Prompt {
	ids := m.tok.Encode(text)
	return lm.Prompt{Text: text, IDs: ids, Tokens: m.tok.Tokens(ids)}
}

// Options configure how a model is created or loaded. The zero value uses
// backend.Default() and GPT-2's tokenizer when a checkpoint has none.
type Options struct {
	// Backend to place the weights on; nil means backend.Default().
	Backend compute.Backend
	// Tokenizer overrides the checkpoint's tokenizer.
	Tokenizer *bpe.Tokenizer
	// Workload says what the model will run, for backend.For to choose the
	// backend when Backend is nil; its Params is filled in from the
	// checkpoint's config. The zero value is an unknown, small workload (the
	// pure-Go backend unless GOMLX_BACKEND says otherwise). Example:
	// Workload{Name: "DAS training", Tokens: steps * batch * seqLen * 3}.
	Workload backend.Workload
	// Devices lists the backend's devices that batched work (lm.Runner,
	// pv, sweeps) is split across; nil means lm.DefaultDevices' choice.
	// Listed devices are always used as given.
	Devices []int
}

func (o Options) backend(cfg Config) (compute.Backend, error) {
	if o.Backend != nil {
		return o.Backend, nil
	}
	w := o.Workload
	if w.Params <= 0 {
		w.Params = int64(cfg.NumParams())
	}
	return backend.For(w)
}

// newModel builds a Model from a validated config and a function filling
// each parameter's float32 values (dst) by HF name and expected shape. The
// values go straight into the backend's buffers where it shares memory with
// the host (the pure-Go backend), so loading holds one copy of the weights.
func newModel(cfg Config, opt Options, source string, fill func(name string, shape []int, dst []float32) error) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b, err := opt.backend(cfg)
	if err != nil {
		return nil, err
	}
	devs, err := lm.ModelDevices(b, opt.Devices)
	if err != nil {
		return nil, fmt.Errorf("gpt2: %w", err)
	}
	m := &Model{cfg: cfg, backend: b, devices: devs, tok: opt.Tokenizer, source: source}
	if m.tok == nil {
		m.tok = bpe.GPT2()
	}
	for _, spec := range cfg.paramSpecs() {
		var t *tensors.Tensor
		if b.HasSharedBuffers() {
			if t, err = tensors.FromShapeForBackend(b, 0, shapeF32(spec.shape...)); err != nil {
				return nil, fmt.Errorf("gpt2: %s: %w", spec.name, err)
			}
		} else {
			t = tensors.FromShape(shapeF32(spec.shape...))
		}
		var ferr error
		if err := tensors.MutableFlatData(t, func(flat []float32) { ferr = fill(spec.name, spec.shape, flat) }); err != nil {
			return nil, fmt.Errorf("gpt2: %s: %w", spec.name, err)
		}
		if ferr != nil {
			return nil, ferr
		}
		m.params = append(m.params, t)
	}
	m.runner = lm.NewRunner(m, m.PadID())
	m.decoder = &lm.Decoder{Model: m, EOS: cfg.EOSTokenID}
	return m, nil
}

// Random returns a model with cfg's shapes and weights drawn as transformers
// initializes GPT-2 (normal, std 0.02; c_proj layers scaled by
// 1/sqrt(2*n_layer); LayerNorm gain 1 and bias 0), deterministically from
// seed. It returns cfg's validation error, if any. The weights are random:
// predictions are meaningless.
func Random(cfg Config, seed uint64, opt Options) (*Model, error) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	return newModel(cfg, opt, fmt.Sprintf("random weights (seed %d)", seed), func(name string, shape []int, data []float32) error {
		switch {
		case hasSuffix(name, "ln_1.weight", "ln_2.weight", "ln_f.weight"):
			for i := range data {
				data[i] = 1
			}
		case len(shape) == 1: // biases
			clear(data)
		default:
			std := 0.02
			if hasSuffix(name, "c_proj.weight") {
				std /= sqrt(2 * float64(cfg.NLayer))
			}
			for i := range data {
				data[i] = float32(rng.NormFloat64() * std)
			}
		}
		return nil
	})
}

// TokenID returns the id of a single-token string such as " Paris" and
// whether the tokenizer has it as one token.
func (m *Model) TokenID(token string) (int, bool) { return m.tok.ID(token) }

// TokenString returns token id's text (for labels), or "" when out of range.
func (m *Model) TokenString(id int) string { return m.tok.Token(id) }
