package pv

import (
	"fmt"
	"slices"
	"sort"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// resumeSweep runs a sweep without recomputing what a patch cannot change.
// Patching layer l at position p leaves every layer below l, and every
// position before p, as in the base (corrupted) run: so each setting
// resumes from the base run's residual stream entering its lowest patched
// layer, for a window of the last positions only, attending to the base
// run's cached keys and values for the positions before. Settings are
// grouped by (start layer, window); windows are padded to powers of two so
// that few graphs are compiled. The result equals the plain sweep's up to
// float32 rounding (a test checks it).
func (sw *Sweeper) resumeSweep(base, source lm.Prompt, corrupt *Corruption, cfg SweepConfig, cols []int, res *SweepResult) error {
	d := sw.model.Dims()
	L, s := d.Layers, base.Len()
	runner := lm.NewRunner(sw.model, sw.model.PadID())
	// The base run: residual entering each layer and the keys and values.
	var sites []lm.Site
	for l := range L {
		sites = append(sites, lm.Site{Layer: l, Component: lm.BlockInput},
			lm.Site{Layer: l, Component: lm.HeadKeyOutput}, lm.Site{Layer: l, Component: lm.HeadValueOutput})
	}
	var baseRun *lm.Result
	if corrupt != nil {
		iv, err := sw.model_(SweepConfig{Component: cfg.Component, Unit: cfg.Unit, Positions: cfg.Positions}, corrupt)
		if err != nil {
			return err
		}
		out, err := iv.Forward([]lm.Prompt{base}, Locations(append([][][]int{nil}, make([][][]int, L)...),
			append([][][]int{{corrupt.Positions}}, make([][][]int, L)...)),
			SourceRepresentations(map[string][][]float32{iv.keys[0]: {corruptionNoise(corrupt, d.Hidden)}}),
			SubspacesPer(append([][][]int{nil}, repeat([][]int{{}}, L)...)), CaptureSites(sites...), LastLogitsOnly(),
			Sources(lm.Prompt{})) // the restoring interventions are off (skipped) in this run
		if err != nil {
			return fmt.Errorf("pv: sweep: corrupted run: %w", err)
		}
		baseRun = out.Result()
	} else {
		var err error
		if baseRun, err = runner.Run([]lm.Prompt{base}, sites...); err != nil {
			return fmt.Errorf("pv: sweep: base run: %w", err)
		}
	}
	if res.Base == 0 {
		var err error
		if res.Base, err = lastMetric(baseRun.Logits, baseRun.Batch, 0, cfg.Metric); err != nil {
			return err
		}
	}
	// The source values at the swept component, every layer.
	var srcSites []lm.Site
	for l := range L {
		srcSites = append(srcSites, lm.Site{Layer: l, Component: cfg.Component})
	}
	srcRun, err := runner.Run([]lm.Prompt{source}, srcSites...)
	if err != nil {
		return fmt.Errorf("pv: sweep: source: %w", err)
	}
	if res.Source, err = lastMetric(srcRun.Logits, srcRun.Batch, 0, cfg.Metric); err != nil {
		return err
	}
	head := cfg.Component.IsHead()
	w := d.Width(cfg.Component)
	// srcVal returns the source's value at layer l for a column: [w].
	srcFlat := make([][]float32, L)
	for l := range L {
		if srcFlat[l], err = tensors.CopyFlatData[float32](srcRun.Sites[srcSites[l]]); err != nil {
			return err
		}
	}
	ss := source.Len()
	srcVal := func(l, col, pos int) []float32 {
		if head { // [1,h,s,dh]
			start := (col*ss + pos) * w
			return srcFlat[l][start : start+w]
		}
		start := pos * w
		return srcFlat[l][start : start+w]
	}
	// Settings and their groups.
	type setting struct{ row, col, lo, hi, pos int }
	groups := map[[2]int][]setting{}
	for r, layer := range cfg.Layers {
		lo, hi := max(0, layer-cfg.Window/2), min(L-1, layer+(cfg.Window-1)/2)
		for c, col := range cols {
			pos := col
			if cfg.Unit == HeadPos {
				pos = slices.Min(cfg.Positions)
			}
			// Windows are padded to powers of two so that few graphs are
			// compiled (measured faster on the pure-Go backend too than
			// exact windows).
			win := 1
			for win < s-pos {
				win *= 2
			}
			win = min(win, s)
			key := [2]int{lo, s - win}
			groups[key] = append(groups[key], setting{r, c, lo, hi, pos})
		}
	}
	keys := make([][2]int, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		return keys[a][0] < keys[b][0] || keys[a][0] == keys[b][0] && keys[a][1] < keys[b][1]
	})
	total := len(cfg.Layers) * len(cols)
	done := 0
	flat := func(site lm.Site) []float32 { v, _ := tensors.CopyFlatData[float32](baseRun.Sites[site]); return v }
	// The base run's keys and values, per layer, as inputs of the block graph.
	kv := make([][2]*tensors.Tensor, L)
	for l := range L {
		kv[l] = [2]*tensors.Tensor{
			tensors.FromFlatDataAndDimensions(flat(lm.Site{Layer: l, Component: lm.HeadKeyOutput}), 1, d.Heads, s, d.HeadDim),
			tensors.FromFlatDataAndDimensions(flat(lm.Site{Layer: l, Component: lm.HeadValueOutput}), 1, d.Heads, s, d.HeadDim)}
	}
	block, err := sw.blockExec(cfg)
	if err != nil {
		return err
	}
	final, err := sw.headExec()
	if err != nil {
		return err
	}
	params := sw.model.Params()
	sharer := sw.model.(lm.LayerSharer)
	for _, k := range keys {
		start, q := k[0], k[1]
		win := s - q
		resid := flat(lm.Site{Layer: start, Component: lm.BlockInput})[q*d.Hidden:]
		all := groups[k]
		for c0 := 0; c0 < len(all); c0 += cfg.ChunkSize {
			chunk := all[c0:min(c0+cfg.ChunkSize, len(all))]
			n := len(chunk)
			units := make([]int32, n)
			heads := make([]int32, n)
			h0 := make([]float32, 0, n*len(resid))
			for e, st := range chunk {
				units[e] = int32(st.pos - q)
				heads[e] = int32(cols[st.col])
				h0 = append(h0, resid...)
			}
			common := []any{tensors.FromScalar(int32(q)), tensors.FromFlatDataAndDimensions(units, n), tensors.FromFlatDataAndDimensions(heads, n)}
			// One call of the block graph per layer, each with that layer's
			// weights, cached keys and values, and which settings patch it.
			h := tensors.FromFlatDataAndDimensions(h0, n, win, d.Hidden)
			for l := start; l < L; l++ {
				mask := make([]float32, n)
				src := make([]float32, n*w)
				for e, st := range chunk {
					if l >= st.lo && l <= st.hi {
						mask[e] = 1
						copy(src[e*w:], srcVal(l, cols[st.col], st.pos))
					}
				}
				from, to, _ := sharer.LayerParams(l)
				args := make([]any, 0, to-from+8)
				for _, p := range params[from:to] {
					args = append(args, p)
				}
				args = append(args, h, kv[l][0], kv[l][1])
				args = append(args, common...)
				args = append(args, tensors.FromFlatDataAndDimensions(mask, n), tensors.FromFlatDataAndDimensions(src, n, w))
				outs, err := block.Exec(args...)
				if err != nil {
					return fmt.Errorf("pv: sweep: layer %d: %w", l, err)
				}
				h.FinalizeAll()
				h = outs[0]
			}
			args := make([]any, 0, len(params)+1)
			for _, p := range params {
				args = append(args, p)
			}
			outs, err := final.Exec(append(args, h)...)
			h.FinalizeAll()
			if err != nil {
				return fmt.Errorf("pv: sweep: %w", err)
			}
			logits := &lm.Result{Batch: &lm.Batch{Size: n, Len: 1, Lengths: repeat(1, n)}, Logits: outs[0]}
			for e, st := range chunk {
				l, err := logits.NextTokenLogits(e)
				if err != nil {
					return err
				}
				res.Values[st.row][st.col] = cfg.Metric(l)
			}
			outs[0].FinalizeAll()
			done += n
			if cfg.OnProgress != nil {
				cfg.OnProgress(done, total)
			}
		}
	}
	return nil
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

// blockExec returns the graph that runs one block over a window of
// positions for n settings, patching cfg's component where a setting's mask
// is 1. It is built as block 0 and fed each layer's weights in turn, so it
// compiles once per shape (window, settings, prompt length) for the whole
// sweep, whatever the layer: inputs are block 0's weight slots, then the
// residual [n,win,d], the layer's cached keys and values [1,h,s,dh], the
// window's first slot q, per-setting positions (within the window) and
// heads [n], the mask [n] and the source values [n,w].
func (sw *Sweeper) blockExec(cfg SweepConfig) (*graph.Exec, error) {
	key := fmt.Sprintf("block|%s|%s", cfg.Component, cfg.Unit)
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.resume == nil {
		sw.resume = map[string]*graph.Exec{}
	}
	if e, ok := sw.resume[key]; ok {
		return e, nil
	}
	d := sw.model.Dims()
	from, to, _ := sw.model.(lm.LayerSharer).LayerParams(0)
	nAll := len(sw.model.Params())
	comp, unit := cfg.Component, cfg.Unit
	e, err := graph.NewExec(sw.model.Backend(), func(in []*graph.Node) []*graph.Node {
		params := make([]*graph.Node, nAll)
		copy(params[from:to], in[:to-from])
		rest := in[to-from:]
		resid, keys, values, q, units, heads, mask, src := rest[0], rest[1], rest[2], rest[3], rest[4], rest[5], rest[6], rest[7]
		n, win := resid.Shape().Dimensions[0], resid.Shape().Dimensions[1]
		s := keys.Shape().Dimensions[2]
		bcast := func(x *graph.Node) *graph.Node {
			dims := slices.Clone(x.Shape().Dimensions)
			dims[0] = n
			return graph.BroadcastToDims(x, dims...)
		}
		kv := &lm.KVCache{Start: q, Mask: graph.OnesLike(graph.ConvertDType(graph.Iota(resid.Graph(), shapeOf([]int{n, s}), 1), dtypes.Float32)),
			Keys: make([]*graph.Node, d.Layers), Values: make([]*graph.Node, d.Layers)}
		kv.Keys[0], kv.Values[0] = bcast(keys), bcast(values)
		posOH := graph.OneHot(units, win, dtypes.Float32) // [n,win]
		headOH := graph.OneHot(heads, d.Heads, dtypes.Float32)
		m := graph.Reshape(mask, n, 1)
		hook := func(site lm.Site, x *graph.Node) *graph.Node {
			if site.Component != comp {
				return x
			}
			if unit == HeadPos { // x [n,h,win,dh]
				sel := graph.Einsum("nh,np->nhp", headOH, posOH) // the (head, position) cell
				cur := graph.Einsum("nhp,nhpd->nd", sel, x)
				delta := graph.Mul(graph.Sub(src, cur), m)
				return graph.Add(x, graph.Einsum("nhp,nd->nhpd", sel, delta))
			}
			cur := graph.Einsum("np,npw->nw", posOH, x) // x [n,win,w]
			delta := graph.Mul(graph.Sub(src, cur), m)
			return graph.Add(x, graph.Einsum("np,nw->npw", posOH, delta))
		}
		return []*graph.Node{sw.model.BuildForward(params, lm.Inputs{Residual: resid, StartLayer: 0, EndLayer: 1, Cache: kv}, hook)}
	})
	if err != nil {
		return nil, fmt.Errorf("pv: sweep: compile: %w", err)
	}
	e = e.WithName("pv.sweep.block." + string(cfg.Component))
	e.SetMaxCache(256)
	sw.resume[key] = e
	return e, nil
}

// headExec returns the graph from the residual leaving the last block,
// [n,win,d], to the last position's logits: every weight, then the residual.
func (sw *Sweeper) headExec() (*graph.Exec, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.resume == nil {
		sw.resume = map[string]*graph.Exec{}
	}
	if e, ok := sw.resume["head"]; ok {
		return e, nil
	}
	nAll, L := len(sw.model.Params()), sw.model.Dims().Layers
	e, err := graph.NewExec(sw.model.Backend(), func(in []*graph.Node) []*graph.Node {
		resid := in[nAll]
		dims := resid.Shape().Dimensions
		ones := graph.OnesLike(graph.ConvertDType(graph.Iota(resid.Graph(), shapeOf(dims[:2]), 1), dtypes.Float32))
		return []*graph.Node{sw.model.BuildForward(in[:nAll], lm.Inputs{Residual: resid, StartLayer: L, Mask: ones, LastOnly: true}, nil)}
	})
	if err != nil {
		return nil, fmt.Errorf("pv: sweep: compile: %w", err)
	}
	e = e.WithName("pv.sweep.head")
	e.SetMaxCache(256)
	sw.resume["head"] = e
	return e, nil
}
