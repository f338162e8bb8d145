package sweep

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// Sweeper runs patching sweeps over one model, keeping compiled graphs
// between sweeps. Each batch of settings is split across the model's
// devices (lm.DevicesOf; models.Options.Devices), with the result one
// device gives. It is safe for concurrent use.
type Sweeper struct {
	model  lm.Model
	runner *lm.Runner
	// devices are the model's devices (lm.DevicesOf): each batch of
	// settings is split across them.
	devices *lm.Devices
	resume  bool
	mu      sync.Mutex
	// ivs are the plain path's intervenable models, by sweep shape.
	ivs map[string]*pv.Model
	// execs are the resumed path's graphs, by name.
	execs map[string]*graph.Exec
	// compiles counts the resumed sweeps' graph builds (one per compiled
	// shape).
	compiles atomic.Int64
}

// Option changes how New sets up a Sweeper.
type Option func(*Sweeper)

// Resume(false) runs every setting through the whole model (the plain
// path). Resume(true), the default, recomputes for each setting only the
// layers from its lowest patched one and the positions from the patched
// one on, from the base run's cached residuals, keys and values; it applies
// to models that support it (lm.Resumer and lm.LayerSharer) and to units
// "pos" and "h.pos", and is ignored for others.
func Resume(on bool) Option { return func(sw *Sweeper) { sw.resume = on } }

// New returns a Sweeper for m. With a nil m, its sweeps return an error.
func New(m lm.Model, opts ...Option) *Sweeper {
	sw := &Sweeper{model: m, resume: true}
	for _, o := range opts {
		o(sw)
	}
	sw.resume = sw.resume && resumable(m)
	if m != nil {
		sw.runner = lm.NewRunner(m, m.PadID())
		sw.devices = lm.DevicesOf(m)
	}
	return sw
}

// Resumes reports whether the Sweeper takes the resumed path (see Resume)
// for units that allow it: false for a nil Sweeper.
func (sw *Sweeper) Resumes() bool { return sw != nil && sw.resume }

// Compiles returns how many graphs the Sweeper's resumed sweeps have
// compiled (each shape of each graph counts once; a sweep of shapes seen
// before compiles nothing); 0 for a nil Sweeper.
func (sw *Sweeper) Compiles() int64 {
	if sw == nil {
		return 0
	}
	return sw.compiles.Load()
}

// Patch sweeps source -> base patching: for every row (layer) and column
// (position or head) it runs the base with the source's value at that
// site, and scores it. Source and base must have the same length for "h".
// An invalid config (see Config), an invalid prompt (empty, too long, ids
// outside the vocabulary) or a metric that fails on the model's logits is
// an error naming the field and the valid range, before anything runs.
func (sw *Sweeper) Patch(base, source lm.Prompt, cfg Config) (*Result, error) {
	return sw.sweep(base, source, nil, cfg)
}

// Trace is causal tracing (ROME): the prompt corrupted by noise on the
// subject is the base, the clean prompt the source, and each setting
// restores the clean value at one site. It returns the errors Patch does,
// and an error for corruption positions that are missing, repeated or
// outside the prompt, or a level that is negative, NaN or infinite.
func (sw *Sweeper) Trace(prompt lm.Prompt, corrupt Corruption, cfg Config) (*Result, error) {
	return sw.sweep(prompt, prompt, &corrupt, cfg)
}

// sweep validates, then runs the resumed or the plain path.
func (sw *Sweeper) sweep(base, source lm.Prompt, corrupt *Corruption, cfg Config) (*Result, error) {
	cfg, cols, err := sw.check(base, source, corrupt, cfg)
	if err != nil {
		return nil, err
	}
	res := &Result{Values: newGrid(len(cfg.Layers), len(cols))}
	if sw.resume && cfg.Unit != pv.Head {
		err = sw.resumed(base, source, corrupt, cfg, cols, res)
	} else {
		err = sw.plain(base, source, corrupt, cfg, cols, res)
	}
	if err != nil {
		return nil, err
	}
	res.Rows, res.Cols = labels(cfg, cols, base)
	return res, nil
}

// labels names a sweep's rows (layers) and columns (tokens or heads).
func labels(cfg Config, cols []int, base lm.Prompt) (rows, names []string) {
	for _, l := range cfg.Layers {
		rows = append(rows, strconv.Itoa(l))
	}
	for _, c := range cols {
		switch {
		case cfg.Unit != pv.Pos:
			names = append(names, "h"+strconv.Itoa(c))
		case c < len(base.Tokens):
			names = append(names, base.Tokens[c])
		default:
			names = append(names, strconv.Itoa(c))
		}
	}
	return rows, names
}

// chunkSize returns how many settings one batch runs: cfg.ChunkSize, or
// fewer (at least one) when settings of tokens query tokens attending to
// keys key slots would need more than cfg.MaxBytes of activations.
func chunkSize(cfg Config, d lm.Dims, tokens, keys int) int {
	perToken := int64(4 * (10*d.Hidden + d.Inner + 2*d.Heads*keys))
	perSetting := int64(tokens)*perToken + 4*int64(d.Vocab) // one block, and the logits kept
	return int(max(1, min(int64(cfg.ChunkSize), cfg.MaxBytes/perSetting)))
}

// window returns the layers row layer patches: layer-Window/2 ..
// layer+(Window-1)/2, clipped to the model's layers [0, layers).
func window(cfg Config, layer, layers int) (lo, hi int) {
	return max(0, layer-cfg.Window/2), min(layers-1, layer+(cfg.Window-1)/2)
}

// resumable reports whether m supports resumed sweeps: it resumes passes
// (lm.Resumer) and one block graph serves every block (lm.LayerSharer).
func resumable(m lm.Model) bool {
	r, ok := m.(lm.Resumer)
	if !ok || !r.Resumes() {
		return false
	}
	sh, ok := m.(lm.LayerSharer)
	if !ok {
		return false
	}
	for l := range m.Dims().Layers {
		if _, _, ok := sh.LayerParams(l); !ok {
			return false
		}
	}
	return true
}
