package analysis

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/sweep"
)

// Path patching (Wang et al. 2022, the IOI paper; Goldowsky-Dill et al.
// 2023): a sender's effect along its paths to chosen receivers only. For
// each sender s:
//
//  1. the clean and the corrupted prompt run once, caching every head's
//     output (head_attention_value_output, z) and every MLP's output;
//  2. the clean prompt runs with s's output taken from the corrupted run
//     and every other head's output frozen to its clean value (and the
//     MLPs' too with FreezeMLPs), and the receivers' inputs are read: the
//     receiver heads' queries, keys or values, or the final residual
//     stream (the logits receiver);
//  3. the clean prompt runs with only the receivers' inputs replaced by
//     those of step 2, and the metric scores its logits after the last
//     token. For the logits receiver, step 3 is step 2's logits.
//
// Senders run in the batch dimension: one compiled graph runs steps 2 and
// 3 for a chunk of senders, whatever the sender.

// The inputs of a head receiver, as PathConfig's Receivers name them.
const (
	InputQuery = "q"
	InputKey   = "k"
	InputValue = "v"
)

// receiverInputs maps a head receiver's input names to their sites'
// components, in the order Inputs defaults to.
var receiverInputs = []struct {
	name string
	comp lm.Component
}{{InputQuery, lm.HeadQueryOutput}, {InputKey, lm.HeadKeyOutput}, {InputValue, lm.HeadValueOutput}}

// inputNames lists the valid receiver inputs, for error messages.
func inputNames() []string { return []string{InputQuery, InputKey, InputValue} }

// MaxPathChunk bounds PathConfig.ChunkSize.
const MaxPathChunk = 4096

// Receiver is where path patching reads a sender's effect: the logits
// (the final residual stream) or one attention head's inputs.
type Receiver struct {
	// Logits receives at the final residual stream; Layer, Head and Inputs
	// must then be zero. A logits receiver is the only receiver of a
	// config.
	Logits bool `json:"logits,omitempty"`
	// Layer and Head name a receiver head. For the "k" and "v" inputs of a
	// grouped-query model Head indexes the key/value heads (lm.Dims
	// HeadCount of head_key_output), as the sites do.
	Layer int `json:"layer"`
	Head  int `json:"head"`
	// Inputs are which of the head's inputs receive: any of "q", "k", "v"
	// (InputQuery, InputKey, InputValue); empty means all three.
	Inputs []string `json:"inputs,omitempty"`
}

// LogitsReceiver returns the receiver at the final residual stream: the
// sender's direct path to the logits (through unfrozen MLPs too, without
// PathConfig.FreezeMLPs).
func LogitsReceiver() Receiver { return Receiver{Logits: true} }

// HeadReceiver returns the receiver head (layer, head) at inputs (any of
// "q", "k", "v"; none means all three). PathPatch checks the values.
func HeadReceiver(layer, head int, inputs ...string) Receiver {
	return Receiver{Layer: layer, Head: head, Inputs: inputs}
}

// String names the receiver: "logits", or "L3H1.qkv" style.
func (r Receiver) String() string {
	if r.Logits {
		return "logits"
	}
	in := ""
	for _, s := range r.Inputs {
		in += s
	}
	if in == "" {
		in = "qkv"
	}
	return fmt.Sprintf("L%dH%d.%s", r.Layer, r.Head, in)
}

// PathConfig says which senders path patching sweeps, where it reads their
// effects and how it scores them. Zero fields take their defaults.
type PathConfig struct {
	// Layers are the sender layers: every attention head of each (default
	// all layers).
	Layers []int `json:"layers,omitempty"`
	// MLPs adds each sender layer's MLP as a sender (the grid's last
	// column, "mlp").
	MLPs bool `json:"mlps,omitempty"`
	// Receivers read the senders' effects (default the logits receiver
	// alone).
	Receivers []Receiver `json:"receivers,omitempty"`
	// FreezeMLPs freezes every MLP's output to its clean value in step 2,
	// as it does every head's, so that only direct paths from sender to
	// receivers count; without it paths through MLPs count too, as in the
	// IOI paper.
	FreezeMLPs bool `json:"freeze_mlps,omitempty"`
	// Normalize reports (patched - clean) / (clean - corrupt) instead of
	// the patched metric, as TransformerLens' tutorials do: 0 for no
	// effect, -1 for the corrupted run's metric.
	Normalize bool `json:"normalize,omitempty"`
	// Metric scores a run from the logits after the last token (required):
	// sweep.LogitDiff, sweep.TokenProb or a func of your own.
	Metric sweep.Metric `json:"-"`
	// ChunkSize is how many senders run in one batch (0: the default 32;
	// at most MaxPathChunk).
	ChunkSize int `json:"chunk_size,omitempty"`
}

// PathResult is path patching's grid: a row per sender layer, a column per
// head ("h0", "h1", ...) and, with PathConfig.MLPs, a last column "mlp".
type PathResult struct {
	// Rows label the sender layers ("0", "1", ...).
	Rows []string `json:"rows"`
	// Cols label the heads ("h0", "h1", ...) and the MLP ("mlp").
	Cols []string `json:"cols"`
	// Values are the patched metric of each sender, Values[row][col].
	Values [][]float64 `json:"values"`
	// Clean and Corrupt are the metric of the clean and corrupted runs.
	Clean   float64 `json:"clean"`
	Corrupt float64 `json:"corrupt"`
	// Normalized says Values are (patched - clean) / (clean - corrupt).
	Normalized bool `json:"normalized,omitempty"`
	// Receivers are the receivers, as Receiver.String names them.
	Receivers []string `json:"receivers"`
}

// PathEffect is one sender's value in a PathResult.
type PathEffect struct {
	// Sender is TransformerLens' label: "L3H1" for a head, "3_mlp_out" for
	// an MLP.
	Sender string  `json:"sender"`
	Value  float64 `json:"value"`
}

// Top returns the k senders whose values are farthest from no effect (0
// when normalized, Clean otherwise), largest first; fewer when the grid
// has fewer, none for k <= 0.
func (r *PathResult) Top(k int) []PathEffect {
	ref := r.Clean
	if r.Normalized {
		ref = 0
	}
	var all []PathEffect
	for i, row := range r.Values {
		for j, v := range row {
			label := "L" + r.Rows[i] + "H" + r.Cols[j][1:]
			if r.Cols[j] == "mlp" {
				label = r.Rows[i] + "_mlp_out"
			}
			all = append(all, PathEffect{Sender: label, Value: v})
		}
	}
	slices.SortStableFunc(all, func(a, b PathEffect) int { return cmp.Compare(math.Abs(b.Value-ref), math.Abs(a.Value-ref)) })
	return all[:max(0, min(k, len(all)))]
}

// sender is one setting: a head of a layer, or its MLP (head -1).
type sender struct{ layer, head int }

// PathPatch runs path patching of every sender cfg names from the clean
// prompt to cfg's receivers, with senders' values from corrupt, on any
// lm.Model. It returns an error, before running anything, for a nil model,
// an empty prompt, prompts of different lengths, a config PathConfig
// describes as invalid (each problem naming the field, the value and the
// valid choices), a model without the sites path patching needs, a metric
// that fails on the model's logits, and for Normalize when the clean and
// corrupted metrics are equal.
func PathPatch(m lm.Model, clean, corrupt lm.Prompt, cfg PathConfig) (*PathResult, error) {
	if m == nil {
		return nil, errors.New("analysis: path patching: nil model")
	}
	d := m.Dims()
	cfg, err := cfg.withDefaults(d)
	if err != nil {
		return nil, fmt.Errorf("analysis: path patching: %w", err)
	}
	if clean.Len() == 0 || corrupt.Len() == 0 {
		return nil, fmt.Errorf("analysis: path patching: empty prompt (clean %d tokens, corrupt %d); give both prompts", clean.Len(), corrupt.Len())
	}
	if clean.Len() != corrupt.Len() {
		return nil, fmt.Errorf("analysis: path patching: clean prompt has %d tokens, corrupt %d; they must have the same length", clean.Len(), corrupt.Len())
	}
	p := newPathGraph(m, cfg)
	r := lm.NewRunner(m, m.PadID())
	cache, err := r.Run([]lm.Prompt{clean, corrupt}, p.cacheSites()...)
	if err != nil {
		return nil, fmt.Errorf("analysis: path patching: clean and corrupt runs: %w", err)
	}
	res := &PathResult{Normalized: cfg.Normalize}
	for i, v := range []*float64{&res.Clean, &res.Corrupt} {
		if *v, err = scoreRow(cache.Logits, i, cfg.Metric); err != nil {
			return nil, fmt.Errorf("analysis: path patching: %w", err)
		}
	}
	if cfg.Normalize && res.Clean == res.Corrupt {
		return nil, fmt.Errorf("analysis: path patching: normalize: clean and corrupt metrics are equal (%g), so (patched - clean) / (clean - corrupt) is undefined; set Normalize false or pick prompts the metric tells apart", res.Clean)
	}
	var senders []sender
	for _, l := range cfg.Layers {
		res.Rows = append(res.Rows, strconv.Itoa(l))
		for h := range d.Heads {
			senders = append(senders, sender{l, h})
		}
		if cfg.MLPs {
			senders = append(senders, sender{l, -1})
		}
	}
	for h := range d.Heads {
		res.Cols = append(res.Cols, "h"+strconv.Itoa(h))
	}
	if cfg.MLPs {
		res.Cols = append(res.Cols, "mlp")
	}
	for _, rc := range cfg.Receivers {
		res.Receivers = append(res.Receivers, rc.String())
	}
	values, err := p.run(r, clean, cache, senders)
	if err != nil {
		return nil, fmt.Errorf("analysis: path patching: %w", err)
	}
	res.Values = make([][]float64, len(res.Rows))
	for i := range res.Values {
		res.Values[i] = values[i*len(res.Cols) : (i+1)*len(res.Cols)]
		if cfg.Normalize {
			for j, v := range res.Values[i] {
				res.Values[i][j] = (v - res.Clean) / (res.Clean - res.Corrupt)
			}
		}
	}
	return res, nil
}

// withDefaults checks cfg against a model's sizes, in one place, and fills
// its defaults. All problems are joined in one error, each naming the
// field, the value and the valid choices.
func (cfg PathConfig) withDefaults(d lm.Dims) (PathConfig, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cfg.Metric == nil {
		bad("metric: nil; give one, such as sweep.LogitDiff(a, b)")
	}
	if cfg.ChunkSize < 0 || cfg.ChunkSize > MaxPathChunk {
		bad("chunk_size: %d out of range [0, %d] (0: the default 32)", cfg.ChunkSize, MaxPathChunk)
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = 32
	}
	if len(cfg.Layers) == 0 {
		cfg.Layers = make([]int, d.Layers)
		for l := range cfg.Layers {
			cfg.Layers[l] = l
		}
	} else {
		cfg.Layers = slices.Clone(cfg.Layers)
	}
	for i, l := range cfg.Layers {
		if l < 0 || l >= d.Layers {
			bad("layers[%d]: %d out of range [0, %d)", i, l, d.Layers)
		} else if slices.Index(cfg.Layers, l) < i {
			bad("layers[%d]: layer %d given twice; give each layer once", i, l)
		}
	}
	need := []lm.Component{lm.HeadAttentionValueOutput}
	if cfg.MLPs || cfg.FreezeMLPs {
		need = append(need, lm.MLPOutput)
	}
	if len(cfg.Receivers) == 0 {
		cfg.Receivers = []Receiver{LogitsReceiver()}
	} else {
		cfg.Receivers = slices.Clone(cfg.Receivers)
	}
	seen := map[string]int{}
	for i := range cfg.Receivers {
		rc := &cfg.Receivers[i]
		if rc.Logits {
			if rc.Layer != 0 || rc.Head != 0 || len(rc.Inputs) > 0 {
				bad("receivers[%d]: the logits receiver takes no layer, head or inputs (got layer %d, head %d, inputs %q); set Logits false for a head", i, rc.Layer, rc.Head, rc.Inputs)
			}
			if len(cfg.Receivers) > 1 {
				bad("receivers[%d]: logits: the logits receiver must be the only receiver (%d given), since patching the final residual stream overrides every head receiver", i, len(cfg.Receivers))
			}
			continue
		}
		if len(rc.Inputs) == 0 {
			rc.Inputs = inputNames()
		} else {
			rc.Inputs = slices.Clone(rc.Inputs)
		}
		if rc.Layer < 0 || rc.Layer >= d.Layers {
			bad("receivers[%d].layer: %d out of range [0, %d)", i, rc.Layer, d.Layers)
		}
		for j, in := range rc.Inputs {
			c, ok := inputComponent(in)
			switch {
			case !ok:
				bad("receivers[%d].inputs[%d]: %q is not an input; valid: %q", i, j, in, inputNames())
				continue
			case slices.Index(rc.Inputs, in) < j:
				bad("receivers[%d].inputs[%d]: %q given twice; give each input once", i, j, in)
				continue
			case rc.Head < 0 || rc.Head >= d.HeadCount(c):
				bad("receivers[%d].head: %d out of range [0, %d) (the heads of %s)", i, rc.Head, d.HeadCount(c), c)
				continue
			}
			if !slices.Contains(need, c) {
				need = append(need, c)
			}
			key := fmt.Sprintf("L%dH%d.%s", rc.Layer, rc.Head, in)
			if k, dup := seen[key]; dup {
				bad("receivers[%d]: %s is already a receiver (receivers[%d]); give each head input once", i, key, k)
			}
			seen[key] = i
		}
	}
	for _, c := range need {
		if !d.Has(c) {
			bad("model: it has no %s site, which path patching needs here (its absent components: %v)", c, d.Absent)
		}
	}
	return cfg, errors.Join(errs...)
}

// inputComponent returns the site component of a receiver input name.
func inputComponent(name string) (lm.Component, bool) {
	for _, in := range receiverInputs {
		if in.name == name {
			return in.comp, true
		}
	}
	return "", false
}

// scoreRow runs m on the logits after example e's last token of logits
// ([b,s,vocab], unpadded), turning a panicking metric into an error.
func scoreRow(logits *tensors.Tensor, e int, m sweep.Metric) (v float64, err error) {
	dims := logits.Shape().Dimensions
	s, voc := dims[1], dims[2]
	row := make([]float32, voc)
	if err := tensors.ConstFlatData(logits, func(flat []float32) { copy(row, flat[(e*s+s-1)*voc:(e*s+s)*voc]) }); err != nil {
		return 0, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("metric: panicked on logits of vocabulary size %d: %v", voc, r)
		}
	}()
	return m(row), nil
}
