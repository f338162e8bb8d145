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
	// The base run (corrupted for a trace): the residual entering each
	// layer and the keys and values; the source run: the values at the swept
	// component. Both run block by block through the graphs the sweep uses.
	baseRun, err := sw.runLayers(base, cfg.Component, corrupt)
	if err != nil {
		return fmt.Errorf("pv: sweep: base run: %w", err)
	}
	defer baseRun.release()
	one := &lm.Batch{Size: 1, Len: 1, Lengths: []int{1}}
	if res.Base == 0 {
		if res.Base, err = lastMetric(baseRun.logits, one, 0, cfg.Metric); err != nil {
			return err
		}
	}
	srcRun, err := sw.runLayers(source, cfg.Component, nil)
	if err != nil {
		return fmt.Errorf("pv: sweep: source run: %w", err)
	}
	res.Source, err = lastMetric(srcRun.logits, one, 0, cfg.Metric)
	srcRun.release() // from here on, only its values at the component are used
	if err != nil {
		return err
	}
	head := cfg.Component.IsHead()
	w := d.Width(cfg.Component)
	// srcVal returns the source's value at layer l for a column: [w].
	srcFlat := srcRun.comp
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
			// exact windows); position sweeps also merge the windows under
			// a quarter of the prompt, whose work is small, into one.
			win := 1
			for win < s-pos || cfg.Unit == Pos && 4*win < s {
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
	block, err := sw.blockExec(cfg)
	if err != nil {
		return err
	}
	final, err := sw.headExec()
	if err != nil {
		return err
	}
	// Which positions a setting patches: its column for "pos", every
	// position of cfg.Positions for "h.pos".
	patched := func(st setting) []int {
		if cfg.Unit == HeadPos {
			return cfg.Positions
		}
		return []int{st.pos}
	}
	var pending []float32 // last-position residuals leaving the last block
	var targets [][2]int  // their (row, col) in the grid
	for _, k := range keys {
		start, q := k[0], k[1]
		win := s - q
		resid := baseRun.resid[start][q*d.Hidden:]
		all := groups[k]
		size := chunkSize(cfg, d, win, s)
		for c0 := 0; c0 < len(all); c0 += size {
			chunk := all[c0:min(c0+size, len(all))]
			n := len(chunk)
			posMask := make([]float32, n*win)
			heads := make([]int32, n)
			h0 := make([]float32, 0, n*len(resid))
			for e, st := range chunk {
				for _, p := range patched(st) {
					posMask[e*win+p-q] = 1
				}
				heads[e] = int32(cols[st.col])
				h0 = append(h0, resid...)
			}
			common := []any{tensors.FromScalar(int32(q)), tensors.FromFlatDataAndDimensions(posMask, n, win), tensors.FromFlatDataAndDimensions(heads, n)}
			// One call of the block graph per layer, each with that layer's
			// weights, cached keys and values, and which settings patch it.
			h := tensors.FromFlatDataAndDimensions(h0, n, win, d.Hidden)
			for l := start; l < L; l++ {
				mask := make([]float32, n)
				src := make([]float32, n*win*w)
				for e, st := range chunk {
					if l >= st.lo && l <= st.hi {
						mask[e] = 1
						for _, p := range patched(st) {
							copy(src[(e*win+p-q)*w:], srcVal(l, cols[st.col], p))
						}
					}
				}
				args := append(sw.layerArgs(l), h, baseRun.kv[l][0], baseRun.kv[l][1])
				args = append(args, common...)
				args = append(args, tensors.FromFlatDataAndDimensions(mask, n), tensors.FromFlatDataAndDimensions(src, n, win, w))
				outs, err := block.Call(args...)
				if err != nil {
					return fmt.Errorf("pv: sweep: layer %d: %w", l, err)
				}
				h.FinalizeAll()
				h = outs[0]
			}
			// The last position's residual goes to the head later, with
			// every other chunk's: one pass over the unembedding for the
			// whole sweep.
			hf, err := tensors.CopyFlatData[float32](h)
			h.FinalizeAll()
			if err != nil {
				return err
			}
			for e, st := range chunk {
				pending = append(pending, hf[(e*win+win-1)*d.Hidden:(e*win+win)*d.Hidden]...)
				targets = append(targets, [2]int{st.row, st.col})
			}
			done += n
			if cfg.OnProgress != nil {
				cfg.OnProgress(done, total)
			}
		}
	}
	// The head, headRows settings at a time (one shape for every sweep).
	args := asArgs(sw.model.Params())
	for r0 := 0; r0 < len(targets); r0 += headRows {
		rows := make([]float32, headRows*d.Hidden)
		copy(rows, pending[r0*d.Hidden:min(len(pending), (r0+headRows)*d.Hidden)])
		outs, err := final.Call(append(args, tensors.FromFlatDataAndDimensions(rows, headRows, 1, d.Hidden))...)
		if err != nil {
			return fmt.Errorf("pv: sweep: %w", err)
		}
		logits := &lm.Result{Batch: &lm.Batch{Size: headRows, Len: 1, Lengths: repeat(1, headRows)}, Logits: outs[0]}
		for e, t := range targets[r0:min(len(targets), r0+headRows)] {
			l, err := logits.NextTokenLogits(e)
			if err != nil {
				return err
			}
			if res.Values[t[0]][t[1]], err = callMetric(cfg.Metric, l); err != nil {
				return fmt.Errorf("pv: sweep: %w", err)
			}
		}
		outs[0].FinalizeAll()
	}
	return nil
}

// headRows is how many settings one call of the head graph scores.
const headRows = 64

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

// exec returns the Sweeper's graph key, made by build on first use. It
// compiles once per shape of its inputs (up to 256 shapes); each
// compilation counts in Compiles.
func (sw *Sweeper) exec(key string, build func(in []*graph.Node) []*graph.Node) (*graph.Exec, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if e, ok := sw.resume[key]; ok {
		return e, nil
	}
	e, err := graph.NewExec(sw.model.Backend(), func(in []*graph.Node) []*graph.Node {
		sw.compiles.Add(1)
		return build(in)
	})
	if err != nil {
		return nil, fmt.Errorf("pv: sweep: compile: %w", err)
	}
	e = e.WithName("pv.sweep." + key)
	e.SetMaxCache(256)
	if sw.resume == nil {
		sw.resume = map[string]*graph.Exec{}
	}
	sw.resume[key] = e
	return e, nil
}

// asArgs makes tensors Exec arguments.
func asArgs(ts []*tensors.Tensor) []any {
	args := make([]any, len(ts), len(ts)+8)
	for i, t := range ts {
		args[i] = t
	}
	return args
}

// layerArgs returns block l's weights as Exec arguments for a block graph
// (see block0).
func (sw *Sweeper) layerArgs(l int) []any {
	from, to, _ := sw.model.(lm.LayerSharer).LayerParams(l)
	return asArgs(sw.model.Params()[from:to])
}

// block0 splits a block graph's inputs: block 0's weights, placed in a
// full-length parameter list for BuildForward (the other slots nil: one
// block reads only its own), and the inputs after them.
func (sw *Sweeper) block0(in []*graph.Node) (params, rest []*graph.Node) {
	from, to, _ := sw.model.(lm.LayerSharer).LayerParams(0)
	params = make([]*graph.Node, len(sw.model.Params()))
	copy(params[from:to], in[:to-from])
	return params, in[to-from:]
}

// allOnes returns a float32 node of ones of the given shape.
func allOnes(g *graph.Graph, dims ...int) *graph.Node { return graph.Ones(g, shapeOf(dims)) }

// blockExec returns the graph that runs one block over a window of
// positions for n settings, patching cfg's component where a setting's mask
// is 1. It is built as block 0 and fed each layer's weights in turn, so it
// compiles once per shape (window, settings, prompt length) for the whole
// sweep, whatever the layer: inputs are block 0's weight slots, then the
// residual [n,win,d], the layer's cached keys and values [1,h,s,dh], the
// window's first slot q, which positions each setting patches [n,win] and
// heads [n], the mask [n] and the source values [n,win,w].
func (sw *Sweeper) blockExec(cfg SweepConfig) (*graph.Exec, error) {
	d := sw.model.Dims()
	comp, unit := cfg.Component, cfg.Unit
	return sw.exec("block."+string(comp)+"."+string(unit), func(in []*graph.Node) []*graph.Node {
		params, rest := sw.block0(in)
		resid, keys, values, q, posMask, heads, mask, src := rest[0], rest[1], rest[2], rest[3], rest[4], rest[5], rest[6], rest[7]
		n := resid.Shape().Dimensions[0]
		bcast := func(x *graph.Node) *graph.Node {
			dims := slices.Clone(x.Shape().Dimensions)
			dims[0] = n
			return graph.BroadcastToDims(x, dims...)
		}
		kv := &lm.KVCache{Start: q, Mask: allOnes(resid.Graph(), n, keys.Shape().Dimensions[2]),
			Keys: make([]*graph.Node, d.Layers), Values: make([]*graph.Node, d.Layers)}
		kv.Keys[0], kv.Values[0] = bcast(keys), bcast(values)
		// sel is 1 at the patched cells of settings that patch this layer;
		// x(1-sel) + src·sel keeps the others bit for bit.
		sel := graph.Mul(posMask, graph.ExpandAxes(mask, -1)) // [n,win]
		hook := func(site lm.Site, x *graph.Node) *graph.Node {
			if site.Component != comp {
				return x
			}
			sv, v := graph.ExpandAxes(sel, -1), src // [n,win,1], [n,win,w]
			if unit == HeadPos {                    // x [n,h,win,dh]
				headOH := graph.OneHot(heads, d.Heads, dtypes.Float32) // [n,h]
				sv = graph.Mul(graph.ExpandAxes(sv, 1), graph.Reshape(headOH, n, d.Heads, 1, 1))
				v = graph.ExpandAxes(src, 1)
			}
			sv = graph.BroadcastToShape(sv, x.Shape())
			return graph.Add(graph.Mul(x, graph.OneMinus(sv)), graph.Mul(graph.BroadcastToShape(v, x.Shape()), sv))
		}
		return []*graph.Node{sw.model.BuildForward(params, lm.Inputs{Residual: resid, StartLayer: 0, EndLayer: 1, Cache: kv}, hook)}
	})
}

// headExec returns the graph from the residual leaving the last block,
// [n,win,d], to the last position's logits: every weight, then the residual.
func (sw *Sweeper) headExec() (*graph.Exec, error) {
	nAll, L := len(sw.model.Params()), sw.model.Dims().Layers
	return sw.exec("head", func(in []*graph.Node) []*graph.Node {
		resid := in[nAll]
		dims := resid.Shape().Dimensions
		mask := allOnes(resid.Graph(), dims[0], dims[1])
		return []*graph.Node{sw.model.BuildForward(in[:nAll], lm.Inputs{Residual: resid, StartLayer: L, Mask: mask, LastOnly: true}, nil)}
	})
}

// embedExec returns the graph of the token embeddings plus noise: every
// weight, then ids, positions, mask [1,s] and noise [1,s,d].
func (sw *Sweeper) embedExec() (*graph.Exec, error) {
	nAll := len(sw.model.Params())
	return sw.exec("embed", func(in []*graph.Node) []*graph.Node {
		ids, pos, mask, noise := in[nAll], in[nAll+1], in[nAll+2], in[nAll+3]
		var out *graph.Node
		hook := func(site lm.Site, x *graph.Node) *graph.Node {
			if site.Layer == 0 && site.Component == lm.BlockInput {
				x = graph.Add(x, noise)
				out = x
			}
			return x
		}
		sw.model.BuildForward(in[:nAll], lm.Inputs{IDs: ids, Positions: pos, Mask: mask, EndLayer: 1}, hook)
		return []*graph.Node{out}
	})
}

// runExec returns the block graph of runLayers: built as block 0 and fed
// each layer's weights (block 0's weight slots, the residual, the mask), it
// returns the residual leaving the block, its keys, values, and its value at
// comp.
func (sw *Sweeper) runExec(comp lm.Component) (*graph.Exec, error) {
	return sw.exec("run."+string(comp), func(in []*graph.Node) []*graph.Node {
		params, rest := sw.block0(in)
		var keys, values, val *graph.Node
		hook := func(site lm.Site, x *graph.Node) *graph.Node {
			switch site.Component {
			case lm.HeadKeyOutput:
				keys = x
			case lm.HeadValueOutput:
				values = x
			}
			if site.Component == comp {
				val = x
			}
			return x
		}
		out := sw.model.BuildForward(params, lm.Inputs{Residual: rest[0], Mask: rest[1], EndLayer: 1}, hook)
		return []*graph.Node{out, keys, values, val}
	})
}

// layerRun is one prompt's pass through the model, block by block: per
// layer, the residual entering it and its value at the swept component
// (flat), its keys and values ([1,h,s,dh] tensors, inputs of the sweep's
// block graph as they are), and the last position's logits.
type layerRun struct {
	resid, comp [][]float32
	kv          [][2]*tensors.Tensor
	logits      *tensors.Tensor
}

// release frees the run's tensors.
func (r *layerRun) release() {
	for _, kv := range r.kv {
		kv[0].FinalizeAll()
		kv[1].FinalizeAll()
	}
	r.logits.FinalizeAll()
}

// runLayers runs p block by block with the graphs a resumed sweep uses
// (the embeddings, one block graph for every layer, the head), so the base
// and source runs compile little. A corruption's noise is added to the token
// embeddings at its positions, as Trace's corrupted run does.
func (sw *Sweeper) runLayers(p lm.Prompt, comp lm.Component, corrupt *Corruption) (*layerRun, error) {
	d := sw.model.Dims()
	s := p.Len()
	ids, pos, ones := make([]int32, s), make([]int32, s), make([]float32, s)
	for i, id := range p.IDs {
		ids[i], pos[i], ones[i] = int32(id), int32(i), 1
	}
	noise := make([]float32, s*d.Hidden)
	if corrupt != nil {
		rows := corruptionNoise(corrupt, d.Hidden)
		for i, at := range corrupt.Positions {
			copy(noise[at*d.Hidden:(at+1)*d.Hidden], rows[i*d.Hidden:])
		}
	}
	embed, err := sw.embedExec()
	if err != nil {
		return nil, err
	}
	block, err := sw.runExec(comp)
	if err != nil {
		return nil, err
	}
	final, err := sw.headExec()
	if err != nil {
		return nil, err
	}
	mask := tensors.FromFlatDataAndDimensions(ones, 1, s)
	outs, err := embed.Call(append(asArgs(sw.model.Params()), tensors.FromFlatDataAndDimensions(ids, 1, s), tensors.FromFlatDataAndDimensions(pos, 1, s),
		mask, tensors.FromFlatDataAndDimensions(noise, 1, s, d.Hidden))...)
	if err != nil {
		return nil, err
	}
	h := outs[0]
	r := &layerRun{}
	for l := range d.Layers {
		outs, err := block.Call(append(sw.layerArgs(l), h, mask)...)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", l, err)
		}
		resid, err := tensors.CopyFlatData[float32](h)
		if err != nil {
			return nil, err
		}
		val, err := tensors.CopyFlatData[float32](outs[3])
		if err != nil {
			return nil, err
		}
		h.FinalizeAll()
		outs[3].FinalizeAll()
		r.resid, r.comp = append(r.resid, resid), append(r.comp, val)
		r.kv = append(r.kv, [2]*tensors.Tensor{outs[1], outs[2]})
		h = outs[0]
	}
	outs, err = final.Call(append(asArgs(sw.model.Params()), h)...)
	h.FinalizeAll()
	if err != nil {
		return nil, err
	}
	r.logits = outs[0]
	return r, nil
}
