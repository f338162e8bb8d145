package pv

import (
	"fmt"
	"slices"
	"sort"
	"strings"

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
	for _, k := range keys {
		start, q := k[0], k[1]
		win := s - q
		// Inputs shared by the group: the residual entering layer `start`
		// over the window, and every layer's keys and values.
		resid := flat(lm.Site{Layer: start, Component: lm.BlockInput})[q*d.Hidden:]
		shared := []any{tensors.FromFlatDataAndDimensions(resid, 1, win, d.Hidden)}
		for l := start; l < L; l++ {
			shared = append(shared,
				tensors.FromFlatDataAndDimensions(flat(lm.Site{Layer: l, Component: lm.HeadKeyOutput}), 1, d.Heads, s, d.HeadDim),
				tensors.FromFlatDataAndDimensions(flat(lm.Site{Layer: l, Component: lm.HeadValueOutput}), 1, d.Heads, s, d.HeadDim))
		}
		all := groups[k]
		for c0 := 0; c0 < len(all); c0 += cfg.ChunkSize {
			chunk := all[c0:min(c0+cfg.ChunkSize, len(all))]
			n := len(chunk)
			units := make([]int32, n)
			heads := make([]int32, n)
			masks := make([]float32, n*L)
			src := make([]float32, n*L*w)
			for e, st := range chunk {
				units[e] = int32(st.pos - q)
				heads[e] = int32(cols[st.col])
				for l := st.lo; l <= st.hi; l++ {
					masks[e*L+l] = 1
					copy(src[(e*L+l)*w:], srcVal(l, cols[st.col], st.pos))
				}
			}
			exec, err := sw.resumeExec(cfg, start, win, s, n)
			if err != nil {
				return err
			}
			args := []any{}
			for _, p := range sw.model.Params() {
				args = append(args, p)
			}
			args = append(args, shared...)
			args = append(args, tensors.FromScalar(int32(q)),
				tensors.FromFlatDataAndDimensions(units, n), tensors.FromFlatDataAndDimensions(heads, n),
				tensors.FromFlatDataAndDimensions(masks, n, L), tensors.FromFlatDataAndDimensions(src, n, L, w))
			outs, err := exec.Exec(args...)
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
			done += n
			if cfg.OnProgress != nil {
				cfg.OnProgress(done, total)
			}
		}
	}
	return nil
}

// resumeExec returns the compiled graph for a group: blocks start..L-1 over
// a window of win positions of an s-token prompt, n settings at a time.
func (sw *Sweeper) resumeExec(cfg SweepConfig, start, win, s, n int) (*graph.Exec, error) {
	key := fmt.Sprintf("resume|%s|%s|%d", cfg.Component, cfg.Unit, start)
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.resume == nil {
		sw.resume = map[string]*graph.Exec{}
	}
	if e, ok := sw.resume[key]; ok {
		return e, nil
	}
	d := sw.model.Dims()
	L := d.Layers
	nParams := len(sw.model.Params())
	comp, unit := cfg.Component, cfg.Unit
	e, err := graph.NewExec(sw.model.Backend(), func(in []*graph.Node) []*graph.Node {
		params := in[:nParams]
		rest := in[nParams:]
		resid := rest[0]
		nl := L - start
		caches := rest[1 : 1+2*nl]
		q, units, heads, masks, src := rest[1+2*nl], rest[2+2*nl], rest[3+2*nl], rest[4+2*nl], rest[5+2*nl]
		n := units.Shape().Dimensions[0]
		win := resid.Shape().Dimensions[1]
		s := caches[0].Shape().Dimensions[2]
		bcast := func(x *graph.Node) *graph.Node {
			dims := slices.Clone(x.Shape().Dimensions)
			dims[0] = n
			return graph.BroadcastToDims(x, dims...)
		}
		kv := &lm.KVCache{Start: q, Mask: graph.OnesLike(graph.ConvertDType(graph.Iota(resid.Graph(), shapeOf([]int{n, s}), 1), dtypes.Float32)),
			Keys: make([]*graph.Node, L), Values: make([]*graph.Node, L)}
		for l := start; l < L; l++ {
			kv.Keys[l], kv.Values[l] = bcast(caches[2*(l-start)]), bcast(caches[2*(l-start)+1])
		}
		posOH := graph.OneHot(units, win, dtypes.Float32) // [n,win]
		headOH := graph.OneHot(heads, d.Heads, dtypes.Float32)
		hook := func(site lm.Site, x *graph.Node) *graph.Node {
			if site.Component != comp || site.Layer < start {
				return x
			}
			m := graph.Slice(masks, graph.AxisRange(), graph.AxisElem(site.Layer)) // [n,1]
			v := graph.Reshape(graph.Slice(src, graph.AxisRange(), graph.AxisElem(site.Layer), graph.AxisRange()), n, -1)
			if unit == HeadPos { // x [n,h,win,dh]
				sel := graph.Einsum("nh,np->nhp", headOH, posOH) // the (head, position) cell
				cur := graph.Einsum("nhp,nhpd->nd", sel, x)
				delta := graph.Mul(graph.Sub(v, cur), m)
				return graph.Add(x, graph.Einsum("nhp,nd->nhpd", sel, delta))
			}
			cur := graph.Einsum("np,npw->nw", posOH, x) // x [n,win,w]
			delta := graph.Mul(graph.Sub(v, cur), m)
			return graph.Add(x, graph.Einsum("np,nw->npw", posOH, delta))
		}
		logits := sw.model.BuildForward(params, lm.Inputs{Residual: bcast(resid), StartLayer: start, Cache: kv, LastOnly: true}, hook)
		return []*graph.Node{logits}
	})
	if err != nil {
		return nil, fmt.Errorf("pv: sweep: compile: %w", err)
	}
	e = e.WithName("pv.sweep.resume." + strings.ReplaceAll(key, "|", "."))
	sw.resume[key] = e
	return e, nil
}
