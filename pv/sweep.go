package pv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// Metric scores one run from the logits after the prompt's last token.
type Metric func(logits []float32) float64

// TokenProb returns a Metric: the probability of token id. Sweeps check the
// id against the model's vocabulary before running and return an error
// naming it; called directly on logits without id, the Metric panics.
func TokenProb(id int) Metric {
	return func(logits []float32) float64 {
		checkToken("TokenProb", id, logits)
		return float64(lm.Softmax(logits)[id])
	}
}

// LogitDiff returns a Metric: logit(a) - logit(b). Sweeps check a and b
// against the model's vocabulary before running and return an error naming
// the bad one; called directly on logits without them, the Metric panics.
func LogitDiff(a, b int) Metric {
	return func(logits []float32) float64 {
		checkToken("LogitDiff a", a, logits)
		checkToken("LogitDiff b", b, logits)
		return float64(logits[a]) - float64(logits[b])
	}
}

// SweepConfig says what a sweep patches and how it scores each setting.
// Zero fields take their defaults; negative sizes, empty lists, repeated or
// out-of-range layers and positions, a component that does not fit the
// unit, and a metric that fails on the model's logits (a token id outside
// the vocabulary) are errors, checked in one place for both sweep paths
// before anything runs.
type SweepConfig struct {
	// Component is the site patched at each layer (default block_output).
	Component lm.Component `json:"component"`
	// Unit is "pos" for a layers x positions grid, "h" for layers x heads
	// (whole heads, every position) or "h.pos" for layers x heads at the
	// positions in Positions.
	Unit Unit `json:"unit"`
	// Layers to sweep (default all).
	Layers []int `json:"layers,omitempty"`
	// Positions: for "pos", the columns (default every position of the
	// base); for "h.pos", the positions patched in every head.
	Positions []int `json:"positions,omitempty"`
	// Window patches the layers l-Window/2 .. l+(Window-1)/2 (clipped) for
	// row l, as ROME does for MLP and attention (0: the default 1, layer l
	// only).
	Window int `json:"window,omitempty"`
	// Metric scores a run (required).
	Metric Metric `json:"-"`
	// ChunkSize is how many settings run in one batch at most (0: the
	// default 32; at most MaxChunkSize).
	ChunkSize int `json:"chunk_size,omitempty"`
	// MaxBytes bounds the activations of one batch (0: 1 GiB): chunks
	// shrink, down to one setting, so that a batch's estimated float32
	// activations (one block's, plus the logits it keeps) stay under it.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// OnProgress, when set, is called after each chunk with settings done
	// and the total.
	OnProgress func(done, total int) `json:"-"`
}

// SweepResult is a grid of metric values: Values[r][c] for row Rows[r]
// (a layer) and column Cols[c] (a position's token or a head).
type SweepResult struct {
	Rows, Cols []string
	Values     [][]float64
	// Base is the metric of the unpatched base (the corrupted run in causal
	// tracing); Source is the metric of the source run (the clean run).
	Base, Source float64
}

// Max returns the largest value and its row and column.
func (r *SweepResult) Max() (v float64, row, col int) {
	v = math.Inf(-1)
	for i, vals := range r.Values {
		for j, x := range vals {
			if x > v {
				v, row, col = x, i, j
			}
		}
	}
	return v, row, col
}

// Sweeper runs patching sweeps over one model, keeping compiled graphs
// between sweeps. It is safe for concurrent use.
type Sweeper struct {
	model lm.Model
	// Resume, true by default for models that support it (lm.Resumer and
	// lm.LayerSharer; ignored for others),
	// recomputes for each setting only the layers from its lowest patched
	// one and the positions from the patched one on (from the base run's
	// cached residuals, keys and values); false runs every setting through
	// the whole model.
	Resume bool
	mu     sync.Mutex
	ivs    map[string]*Model
	resume map[string]*graph.Exec
	// compiles counts the resumed sweeps' graph builds (one per compiled
	// shape).
	compiles atomic.Int64
}

// Compiles returns how many graphs the Sweeper's resumed sweeps have
// compiled (each shape of each graph counts once; a sweep of shapes seen
// before compiles nothing).
func (sw *Sweeper) Compiles() int64 { return sw.compiles.Load() }

// NewSweeper returns a Sweeper for m. With a nil m, its sweeps return an
// error.
func NewSweeper(m lm.Model) *Sweeper {
	return &Sweeper{model: m, ivs: map[string]*Model{}, Resume: resumable(m)}
}

// Corruption adds fixed noise to the token embeddings (block_input of
// layer 0) at Positions: ROME's corrupted run. Level scales standard normal
// noise (ROME: 3 times the embeddings' standard deviation); Seed fixes it.
type Corruption struct {
	Positions []int   `json:"positions"`
	Level     float64 `json:"level"`
	Seed      uint64  `json:"seed"`
}

// Patch sweeps source -> base patching: for every row (layer) and column
// (position or head) it runs the base with the source's value at that
// site, and scores it. Source and base must have the same length for "h".
// An invalid config (see SweepConfig), an invalid prompt (empty, too long,
// ids outside the vocabulary) or a metric that fails on the model's logits
// is an error naming the field and the valid range, before anything runs.
func (sw *Sweeper) Patch(base, source lm.Prompt, cfg SweepConfig) (*SweepResult, error) {
	return sw.sweep(base, source, nil, cfg)
}

// Trace is causal tracing (ROME): the prompt corrupted by noise on the
// subject is the base, the clean prompt the source, and each setting
// restores the clean value at one site. It returns the errors Patch does,
// and an error for corruption positions that are missing, repeated or
// outside the prompt, or a level that is negative, NaN or infinite.
func (sw *Sweeper) Trace(prompt lm.Prompt, corrupt Corruption, cfg SweepConfig) (*SweepResult, error) {
	return sw.sweep(prompt, prompt, &corrupt, cfg)
}

func (sw *Sweeper) sweep(base, source lm.Prompt, corrupt *Corruption, cfg SweepConfig) (*SweepResult, error) {
	cfg, cols, err := sw.check(base, source, corrupt, cfg)
	if err != nil {
		return nil, err
	}
	d := sw.model.Dims()
	if sw.Resume && cfg.Unit != Head && resumable(sw.model) {
		res := &SweepResult{Values: make([][]float64, len(cfg.Layers))}
		for r := range res.Values {
			res.Values[r] = make([]float64, len(cols))
		}
		if err := sw.resumeSweep(base, source, corrupt, cfg, cols, res); err != nil {
			return nil, err
		}
		res.Rows, res.Cols = sweepLabels(cfg, cols, base)
		return res, nil
	}
	iv, err := sw.model_(cfg, corrupt)
	if err != nil {
		return nil, err
	}
	// Source values: the source run at the swept site of every layer.
	runner := iv.runner
	var sites []lm.Site
	for l := range d.Layers {
		sites = append(sites, lm.Site{Layer: l, Component: cfg.Component})
	}
	srcRun, err := runner.Run([]lm.Prompt{source}, sites...)
	if err != nil {
		return nil, fmt.Errorf("pv: sweep: source: %w", err)
	}
	res := &SweepResult{}
	if res.Source, err = lastMetric(srcRun.Logits, srcRun.Batch, 0, cfg.Metric); err != nil {
		return nil, err
	}
	// Rows x cols settings, chunked.
	type setting struct{ row, col int } // row -1: nothing patched (the base's own score)
	all := []setting{{-1, 0}}
	for r := range cfg.Layers {
		for c := range cols {
			all = append(all, setting{r, c})
		}
	}
	res.Values = make([][]float64, len(cfg.Layers))
	for r := range res.Values {
		res.Values[r] = make([]float64, len(cols))
	}
	noise := corruptionNoise(corrupt, d.Hidden)
	nRep := d.Layers
	size := chunkSize(cfg, d, base.Len(), base.Len())
	for start := 0; start < len(all); start += size {
		chunk := all[start:min(start+size, len(all))]
		n := len(chunk)
		// The last chunk is padded to the chunk size with repeats of its
		// first setting, so every chunk has one shape and one executable.
		rows := size
		prompts := repeat(base, rows)
		srcLocs := make([][][]int, nRep)
		baseLocs := make([][][]int, nRep)
		heads := make([][][]int, nRep)
		subs := make([][][]int, nRep)
		feed := map[string][][]float32{}
		w := d.Width(cfg.Component)
		for l := range nRep {
			srcLocs[l], baseLocs[l], subs[l] = make([][]int, rows), make([][]int, rows), make([][]int, rows)
			heads[l] = make([][]int, rows)
			for e := range rows {
				st := chunk[min(e, n-1)]
				layer, col := -1, cols[st.col]
				if st.row >= 0 {
					layer = cfg.Layers[st.row]
				}
				switch cfg.Unit {
				case Pos:
					srcLocs[l][e], baseLocs[l][e] = []int{col}, []int{col}
				case Head:
					srcLocs[l][e], baseLocs[l][e] = []int{col}, []int{col}
				case HeadPos:
					heads[l][e] = []int{col}
					srcLocs[l][e], baseLocs[l][e] = cfg.Positions, cfg.Positions
				}
				lo, hi := layer-cfg.Window/2, layer+(cfg.Window-1)/2
				if layer >= 0 && l >= lo && l <= hi {
					subs[l][e] = allDims(w, base.Len(), cfg.Component)
				} else {
					subs[l][e] = []int{}
				}
			}
		}
		opts := []Option{SourceCaches(broadcastCache(srcRun, rows)), SubspacesPer(append([][][]int{}, subs...)), LastLogitsOnly()}
		if corrupt != nil {
			// The corruption is intervention 0 (base-only); the sweep's are 1..L.
			feed[iv.keys[0]] = [][]float32{noise}
			srcLocs = append([][][]int{nil}, srcLocs...)
			baseLocs = append([][][]int{repeat(corrupt.Positions, rows)}, baseLocs...)
			heads = append([][][]int{nil}, heads...)
			opts[1] = SubspacesPer(append([][][]int{nil}, subs...))
			opts = append(opts, SourceRepresentations(feed))
		}
		if cfg.Unit == HeadPos {
			opts = append(opts, HeadPositions(heads, srcLocs, heads, baseLocs))
		} else {
			opts = append(opts, Locations(srcLocs, baseLocs))
		}
		out, err := iv.Forward(prompts, opts...)
		if err != nil {
			return nil, fmt.Errorf("pv: sweep: %w", err)
		}
		for e, st := range chunk {
			v, err := lastMetric(out.Logits, out.Base, e, cfg.Metric)
			if err != nil {
				return nil, err
			}
			if st.row < 0 {
				res.Base = v
				continue
			}
			res.Values[st.row][st.col] = v
		}
		if cfg.OnProgress != nil {
			cfg.OnProgress(start+n-1, len(all)-1)
		}
	}
	res.Rows, res.Cols = sweepLabels(cfg, cols, base)
	return res, nil
}

// sweepLabels names a sweep's rows (layers) and columns (tokens or heads).
func sweepLabels(cfg SweepConfig, cols []int, base lm.Prompt) (rows, labels []string) {
	for _, l := range cfg.Layers {
		rows = append(rows, strconv.Itoa(l))
	}
	for _, c := range cols {
		if cfg.Unit == Pos {
			label := strconv.Itoa(c)
			if c < len(base.Tokens) {
				label = base.Tokens[c]
			}
			labels = append(labels, label)
		} else {
			labels = append(labels, "h"+strconv.Itoa(c))
		}
	}
	return rows, labels
}

// allDims lists every dimension of a unit of component c.
func allDims(w, seq int, c lm.Component) []int {
	if w < 0 {
		w = seq
	}
	out := make([]int, w)
	for i := range out {
		out[i] = i
	}
	return out
}

// chunkSize returns how many settings one batch runs: cfg.ChunkSize, or
// fewer (at least one) when settings of tokens query tokens attending to
// keys key slots would need more than cfg.MaxBytes of activations.
func chunkSize(cfg SweepConfig, d lm.Dims, tokens, keys int) int {
	perToken := int64(4 * (10*d.Hidden + d.Inner + 2*d.Heads*keys))
	perSetting := int64(tokens)*perToken + 4*int64(d.Vocab) // one block, and the logits kept
	return int(max(1, min(int64(cfg.ChunkSize), cfg.MaxBytes/perSetting)))
}

// model_ returns the cached intervenable model for a sweep shape: an
// optional corruption, then one intervention per layer at the component.
func (sw *Sweeper) model_(cfg SweepConfig, corrupt *Corruption) (*Model, error) {
	key := fmt.Sprintf("%s|%s|%v|%d", cfg.Component, cfg.Unit, corrupt != nil, 0)
	if corrupt != nil {
		key += fmt.Sprint(len(corrupt.Positions))
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if iv, ok := sw.ivs[key]; ok {
		return iv, nil
	}
	if sw.ivs == nil {
		sw.ivs = map[string]*Model{}
	}
	var reps []RepresentationConfig
	if corrupt != nil {
		reps = append(reps, RepresentationConfig{Layer: 0, Component: lm.BlockInput, InterventionType: Addition, MaxNumberOfUnits: len(corrupt.Positions)})
	}
	maxUnits := 1
	if cfg.Unit == HeadPos {
		maxUnits = max(1, len(cfg.Positions))
	}
	for l := range sw.model.Dims().Layers {
		reps = append(reps, RepresentationConfig{Layer: l, Component: cfg.Component, Unit: cfg.Unit, MaxNumberOfUnits: maxUnits})
	}
	iv, err := New(sw.model, Config{Representations: reps})
	if err != nil {
		return nil, fmt.Errorf("pv: sweep: %w", err)
	}
	sw.ivs[key] = iv
	return iv, nil
}

// Noise returns the corruption's fixed noise, one row of width w per
// corrupted position: what Trace adds to the token embeddings.
func (c Corruption) Noise(w int) []float32 { return corruptionNoise(&c, w) }

// corruptionNoise draws the fixed noise of a corruption: one row of width w
// per corrupted position.
func corruptionNoise(c *Corruption, w int) []float32 {
	if c == nil {
		return nil
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0xc0))
	out := make([]float32, len(c.Positions)*w)
	for i := range out {
		out[i] = float32(rng.NormFloat64() * c.Level)
	}
	return out
}

// broadcastCache repeats a one-example run n times.
func broadcastCache(r *lm.Result, n int) *lm.Result {
	b := *r.Batch
	b.Size = n
	b.Lengths = repeat(r.Batch.Lengths[0], n)
	out := &lm.Result{Batch: &b, Sites: map[lm.Site]*tensors.Tensor{}}
	for s, t := range r.Sites {
		flat := tensors.MustCopyFlatData[float32](t)
		dims := t.Shape().Dimensions
		rep := make([]float32, 0, len(flat)*n)
		for range n {
			rep = append(rep, flat...)
		}
		nd := append([]int{n}, dims[1:]...)
		out.Sites[s] = tensors.FromFlatDataAndDimensions(rep, nd...)
	}
	return out
}

// lastMetric scores example e from the logits after its last token.
func lastMetric(logits *tensors.Tensor, b *lm.Batch, e int, m Metric) (float64, error) {
	r := &lm.Result{Batch: b, Logits: logits}
	l, err := r.NextTokenLogits(e)
	if err != nil {
		return 0, err
	}
	v, err := callMetric(m, l)
	if err != nil {
		return 0, fmt.Errorf("pv: sweep: %w", err)
	}
	return v, nil
}
