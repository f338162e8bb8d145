package sweep

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// headRows is how many settings one call of the head graph scores.
const headRows = 64

// cell is one setting of a resumed sweep: its row and column in the grid,
// the layers it patches [lo, hi], and its first patched position.
type cell struct{ row, col, lo, hi, pos int }

// group is the settings that resume from the same layer, start, over the
// same window of positions [q, s).
type group struct {
	start, q int
	cells    []cell
}

// resumer holds what every chunk of one resumed sweep reads.
type resumer struct {
	sw     *Sweeper
	cfg    Config
	cols   []int
	seq    int         // the base's length
	base   *layerRun   // the base (corrupted) run
	src    [][]float32 // the source run's values at the component, per layer
	block  *graph.Exec // blockExec's graph
	d      lm.Dims
	srcLen int // the source's length
}

// resumed runs a sweep without recomputing what a patch cannot change.
// Patching layer l at position p leaves every layer below l, and every
// position before p, as in the base (corrupted) run: so each setting
// resumes from the base run's residual stream entering its lowest patched
// layer, for a window of the last positions only, attending to the base
// run's cached keys and values for the positions before. Settings are
// grouped by (start layer, window); windows are padded to powers of two so
// that few graphs are compiled. The result equals the plain sweep's up to
// float32 rounding (a test checks it).
func (sw *Sweeper) resumed(base, source lm.Prompt, corrupt *Corruption, cfg Config, cols []int, res *Result) error {
	d := sw.model.Dims()
	// The base run (corrupted for a trace) keeps the residual entering
	// each layer, and the keys and values; the source run, the values at
	// the swept component.
	baseRun, err := sw.runLayers(base, cfg.Component, corrupt)
	if err != nil {
		return fmt.Errorf("sweep: base run: %w", err)
	}
	defer baseRun.release()
	if res.Base, err = score(baseRun.logits, lastOnly, 0, cfg.Metric); err != nil {
		return err
	}
	src, err := sw.sourceValues(source, cfg, res)
	if err != nil {
		return err
	}
	block, err := sw.blockExec(cfg)
	if err != nil {
		return err
	}
	r := &resumer{sw: sw, cfg: cfg, cols: cols, seq: base.Len(), base: baseRun, src: src, block: block, d: d, srcLen: source.Len()}
	var last []float32 // last-position residuals leaving the last block
	var targets []setting
	done, total := 0, len(cfg.Layers)*len(cols)
	for _, g := range groups(cfg, cols, d.Layers, base.Len()) {
		size := chunkSize(cfg, d, base.Len()-g.q, base.Len())
		for c0 := 0; c0 < len(g.cells); c0 += size {
			chunk := g.cells[c0:min(c0+size, len(g.cells))]
			h, err := r.run(g, chunk)
			if err != nil {
				return err
			}
			last = append(last, h...)
			for _, c := range chunk {
				targets = append(targets, setting{c.row, c.col})
			}
			done += len(chunk)
			if cfg.OnProgress != nil {
				cfg.OnProgress(done, total)
			}
		}
	}
	// The head scores every chunk's residuals at once: one pass over the
	// unembedding for the whole sweep.
	return sw.scoreLast(last, targets, cfg.Metric, res)
}

// lastOnly is the batch of a layerRun's logits: one example, the last
// position only.
var lastOnly = &lm.Batch{Size: 1, Len: 1, Lengths: []int{1}}

// sourceValues runs source block by block, stores its score in
// res.Source, and returns its values at the swept component, per layer.
func (sw *Sweeper) sourceValues(source lm.Prompt, cfg Config, res *Result) ([][]float32, error) {
	run, err := sw.runLayers(source, cfg.Component, nil)
	if err != nil {
		return nil, fmt.Errorf("sweep: source run: %w", err)
	}
	defer run.release() // only its values at the component are used
	res.Source, err = score(run.logits, lastOnly, 0, cfg.Metric)
	return run.comp, err
}

// groups sorts a sweep's settings into groups by start layer and window,
// in order of both.
func groups(cfg Config, cols []int, layers, seq int) []group {
	byKey := map[[2]int][]cell{}
	for r, layer := range cfg.Layers {
		lo, hi := window(cfg, layer, layers)
		for c, col := range cols {
			pos := col
			if cfg.Unit == pv.HeadPos {
				pos = slices.Min(cfg.Positions)
			}
			// Windows are padded to powers of two so that few graphs are
			// compiled (measured faster on the pure-Go backend too than
			// exact windows); position sweeps also merge the windows under
			// a quarter of the prompt, whose work is small, into one.
			win := 1
			for win < seq-pos || cfg.Unit == pv.Pos && 4*win < seq {
				win *= 2
			}
			key := [2]int{lo, seq - min(win, seq)}
			byKey[key] = append(byKey[key], cell{r, c, lo, hi, pos})
		}
	}
	out := make([]group, 0, len(byKey))
	for k, cells := range byKey {
		out = append(out, group{start: k[0], q: k[1], cells: cells})
	}
	slices.SortFunc(out, func(a, b group) int { return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.q, b.q)) })
	return out
}

// patched returns the positions a setting patches: its column for "pos",
// every position of cfg.Positions for "h.pos".
func (r *resumer) patched(c cell) []int {
	if r.cfg.Unit == pv.HeadPos {
		return r.cfg.Positions
	}
	return []int{c.pos}
}

// srcValue returns the source's value at layer l for column col and
// position pos: one unit, [w].
func (r *resumer) srcValue(l, col, pos int) []float32 {
	w := r.d.Width(r.cfg.Component)
	start := pos * w
	if r.cfg.Component.IsHead() { // [1,h,s,dh]
		start = (col*r.srcLen + pos) * w
	}
	return r.src[l][start : start+w]
}

// run runs chunk, settings of group g, from its start layer through the
// last block, one call of the block graph per layer, and returns each
// setting's residual leaving the last block at the last position.
func (r *resumer) run(g group, chunk []cell) ([]float32, error) {
	n, win, hidden := len(chunk), r.seq-g.q, r.d.Hidden
	posMask, heads := make([]float32, n*win), make([]int32, n)
	h0 := make([]float32, 0, n*win*hidden)
	for e, c := range chunk {
		for _, p := range r.patched(c) {
			posMask[e*win+p-g.q] = 1
		}
		heads[e] = int32(r.cols[c.col])
		h0 = append(h0, r.base.resid[g.start][g.q*hidden:]...)
	}
	in := blockInputs[*tensors.Tensor]{
		Resid:   tensors.FromFlatDataAndDimensions(h0, n, win, hidden),
		Start:   tensors.FromScalar(int32(g.q)),
		PosMask: tensors.FromFlatDataAndDimensions(posMask, n, win),
		Heads:   tensors.FromFlatDataAndDimensions(heads, n),
	}
	for l := g.start; l < r.d.Layers; l++ {
		// This layer's cached keys and values, and which settings patch it.
		in.Keys, in.Values = r.base.kv[l][0], r.base.kv[l][1]
		in.Mask, in.Src = r.layerPatch(l, g.q, chunk)
		outs, err := r.sw.call(r.block, args(r.sw.blockWeights(l), in.slots(), in.kinds()))
		if err != nil {
			return nil, fmt.Errorf("sweep: layer %d: %w", l, err)
		}
		in.Resid.FinalizeAll()
		in.Resid = outs[0]
	}
	h, err := tensors.CopyFlatData[float32](in.Resid)
	in.Resid.FinalizeAll()
	if err != nil {
		return nil, err
	}
	last := make([]float32, 0, n*hidden)
	for e := range chunk {
		last = append(last, h[(e*win+win-1)*hidden:(e*win+win)*hidden]...)
	}
	return last, nil
}

// layerPatch returns the block graph's Mask and Src for layer l: 1 for
// the settings of chunk that patch l, and the source's values at the
// cells they patch in the window from q.
func (r *resumer) layerPatch(l, q int, chunk []cell) (mask, src *tensors.Tensor) {
	n, win, w := len(chunk), r.seq-q, r.d.Width(r.cfg.Component)
	m, v := make([]float32, n), make([]float32, n*win*w)
	for e, c := range chunk {
		if l < c.lo || l > c.hi {
			continue
		}
		m[e] = 1
		for _, p := range r.patched(c) {
			copy(v[(e*win+p-q)*w:], r.srcValue(l, r.cols[c.col], p))
		}
	}
	return tensors.FromFlatDataAndDimensions(m, n), tensors.FromFlatDataAndDimensions(v, n, win, w)
}

// scoreLast runs the head on resid, the last-position residuals of
// targets (headRows settings a call: one shape for every sweep), and
// stores each setting's score in res.
func (sw *Sweeper) scoreLast(resid []float32, targets []setting, m Metric, res *Result) error {
	final, err := sw.headExec()
	if err != nil {
		return err
	}
	hidden := sw.model.Dims().Hidden
	batch := &lm.Batch{Size: headRows, Len: 1, Lengths: slices.Repeat([]int{1}, headRows)}
	for r0 := 0; r0 < len(targets); r0 += headRows {
		rows := make([]float32, headRows*hidden)
		copy(rows, resid[r0*hidden:min(len(resid), (r0+headRows)*hidden)])
		in := headInputs[*tensors.Tensor]{Resid: tensors.FromFlatDataAndDimensions(rows, headRows, 1, hidden)}
		outs, err := sw.call(final, args(sw.model.Params(), in.slots(), in.kinds()))
		if err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		for e, t := range targets[r0:min(len(targets), r0+headRows)] {
			if res.Values[t.row][t.col], err = score(outs[0], batch, e, m); err != nil {
				break
			}
		}
		outs[0].FinalizeAll()
		if err != nil {
			return err
		}
	}
	return nil
}
