package sweep

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// setting is one cell of the grid, by row and column index; row -1 is the
// unpatched base (its own score).
type setting struct{ row, col int }

// plain runs every setting through the whole model with pv's Forward, in
// chunks of one shape, into res.
func (sw *Sweeper) plain(base, source lm.Prompt, corrupt *Corruption, cfg Config, cols []int, res *Result) error {
	d := sw.model.Dims()
	iv, err := sw.intervenable(cfg, corrupt)
	if err != nil {
		return err
	}
	srcRun, err := sw.sourceRun(source, cfg, res)
	if err != nil {
		return err
	}
	all := []setting{{-1, 0}}
	for r := range cfg.Layers {
		for c := range cols {
			all = append(all, setting{r, c})
		}
	}
	// Every chunk has size rows: the last is padded with repeats of its
	// first setting, so that one executable serves the whole sweep.
	size := chunkSize(cfg, d, base.Len(), base.Len())
	ch := plainChunk{cfg: cfg, cols: cols, rows: size, seq: base.Len(), layers: d.Layers, width: d.Width(cfg.Component),
		cache: broadcastCache(srcRun, size), corrupt: corrupt}
	if corrupt != nil {
		ch.noise = map[string][][]float32{iv.Keys()[0]: {corrupt.Noise(d.Hidden)}}
	}
	prompts := slices.Repeat([]lm.Prompt{base}, size)
	for start := 0; start < len(all); start += size {
		chunk := all[start:min(start+size, len(all))]
		out, err := iv.Forward(prompts, ch.options(chunk)...)
		if err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		for e, st := range chunk {
			v, err := score(out.Logits, out.Base, e, cfg.Metric)
			if err != nil {
				return err
			}
			if st.row < 0 {
				res.Base = v
			} else {
				res.Values[st.row][st.col] = v
			}
		}
		if cfg.OnProgress != nil {
			cfg.OnProgress(start+len(chunk)-1, len(all)-1)
		}
	}
	return nil
}

// sourceRun runs source, keeping the swept component at every layer, and
// stores its score in res.Source.
func (sw *Sweeper) sourceRun(source lm.Prompt, cfg Config, res *Result) (*lm.Result, error) {
	var sites []lm.Site
	for l := range sw.model.Dims().Layers {
		sites = append(sites, lm.Site{Layer: l, Component: cfg.Component})
	}
	run, err := sw.runner.Run([]lm.Prompt{source}, sites...)
	if err != nil {
		return nil, fmt.Errorf("sweep: source: %w", err)
	}
	res.Source, err = score(run.Logits, run.Batch, 0, cfg.Metric)
	return run, err
}

// plainChunk makes the Forward options of one chunk of a plain sweep.
type plainChunk struct {
	cfg                      Config
	cols                     []int
	rows, seq, layers, width int                    // examples a batch, the base's length, the model's layers, the unit's width
	cache                    *lm.Result             // the source run, one copy per row
	corrupt                  *Corruption            // nil: no corruption
	noise                    map[string][][]float32 // the corruption's, by intervention key
}

// options returns the Forward options that run chunk, padded to c.rows
// examples: per intervention (the corruption's first, if any, then one per
// layer) and example, its units and its subspaces (every dimension where
// the example's setting patches that layer, none elsewhere).
func (c plainChunk) options(chunk []setting) []pv.Option {
	locs, heads, subs := make([][][]int, c.layers), make([][][]int, c.layers), make([][][]int, c.layers)
	for l := range c.layers {
		locs[l], heads[l], subs[l] = make([][]int, c.rows), make([][]int, c.rows), make([][]int, c.rows)
		for e := range c.rows {
			st := chunk[min(e, len(chunk)-1)]
			col := c.cols[st.col]
			locs[l][e], subs[l][e] = []int{col}, []int{}
			if c.cfg.Unit == pv.HeadPos {
				heads[l][e], locs[l][e] = []int{col}, c.cfg.Positions
			}
			if st.row < 0 {
				continue
			}
			if lo, hi := window(c.cfg, c.cfg.Layers[st.row], c.layers); l >= lo && l <= hi {
				subs[l][e] = allDims(c.width, c.seq)
			}
		}
	}
	srcLocs, baseLocs := locs, locs
	if c.corrupt != nil {
		// The corruption is intervention 0 (base-only); the sweep's are 1..L.
		srcLocs = append([][][]int{nil}, locs...)
		baseLocs = append([][][]int{slices.Repeat([][]int{c.corrupt.Positions}, c.rows)}, locs...)
		heads = append([][][]int{nil}, heads...)
		subs = append([][][]int{nil}, subs...)
	}
	opts := []pv.Option{pv.SourceCaches(c.cache), pv.SubspacesPer(subs), pv.LastLogitsOnly()}
	if c.noise != nil {
		opts = append(opts, pv.SourceRepresentations(c.noise))
	}
	if c.cfg.Unit == pv.HeadPos {
		return append(opts, pv.HeadPositions(heads, srcLocs, heads, baseLocs))
	}
	return append(opts, pv.Locations(srcLocs, baseLocs))
}

// allDims lists every dimension of a unit w wide; w < 0 (an attention
// pattern, as wide as the sequence) lists seq.
func allDims(w, seq int) []int {
	if w < 0 {
		w = seq
	}
	out := make([]int, w)
	for i := range out {
		out[i] = i
	}
	return out
}

// broadcastCache repeats a one-example run n times.
func broadcastCache(r *lm.Result, n int) *lm.Result {
	b := *r.Batch
	b.Size = n
	b.Lengths = slices.Repeat([]int{r.Batch.Lengths[0]}, n)
	out := &lm.Result{Batch: &b, Sites: map[lm.Site]*tensors.Tensor{}}
	for s, t := range r.Sites {
		flat := tensors.MustCopyFlatData[float32](t)
		dims := append([]int{n}, t.Shape().Dimensions[1:]...)
		out.Sites[s] = tensors.FromFlatDataAndDimensions(slices.Repeat(flat, n), dims...)
	}
	return out
}

// intervenable returns the cached intervenable model for a sweep shape: an
// optional corruption, then one intervention per layer at the component.
func (sw *Sweeper) intervenable(cfg Config, corrupt *Corruption) (*pv.Model, error) {
	units := 1
	if cfg.Unit == pv.HeadPos {
		units = max(1, len(cfg.Positions))
	}
	corrupted := -1
	if corrupt != nil {
		corrupted = len(corrupt.Positions)
	}
	key := fmt.Sprintf("%s|%s|%d|%d", cfg.Component, cfg.Unit, units, corrupted)
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if iv, ok := sw.ivs[key]; ok {
		return iv, nil
	}
	var reps []pv.RepresentationConfig
	if corrupt != nil {
		reps = append(reps, pv.RepresentationConfig{Layer: 0, Component: lm.BlockInput, InterventionType: pv.Addition, MaxNumberOfUnits: corrupted})
	}
	for l := range sw.model.Dims().Layers {
		reps = append(reps, pv.RepresentationConfig{Layer: l, Component: cfg.Component, Unit: cfg.Unit, MaxNumberOfUnits: units})
	}
	iv, err := pv.New(sw.model, pv.Config{Representations: reps})
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if sw.ivs == nil {
		sw.ivs = map[string]*pv.Model{}
	}
	sw.ivs[key] = iv
	return iv, nil
}
