package analysis

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// pathGraph builds and runs path patching's graph: steps 2 and 3 for a
// chunk of senders in the batch dimension. Its inputs, after the model's
// weights and the batch (n copies of the clean prompt), are the cached z
// of every layer ([2,h,s,dh]: clean then corrupt), the cached MLP outputs
// of every layer ([2,s,d], when the config needs them), and which sender
// each setting patches: heads [n,L,h] and MLPs [n,L], one-hot.
type pathGraph struct {
	m        lm.Model
	d        lm.Dims
	cfg      PathConfig
	mlpCache bool
	recv     map[lm.Site][]int // receiver site -> its receiving heads
	end      int               // step 2's EndLayer: one past the last receiver's layer (0: all)
	builds   atomic.Int64      // how many times build ran (once per compilation)
}

// newPathGraph prepares the graph of a checked config.
func newPathGraph(m lm.Model, cfg PathConfig) *pathGraph {
	p := &pathGraph{m: m, d: m.Dims(), cfg: cfg, mlpCache: cfg.MLPs || cfg.FreezeMLPs, recv: map[lm.Site][]int{}}
	if cfg.Receivers[0].Logits {
		return p
	}
	for _, rc := range cfg.Receivers {
		for _, in := range rc.Inputs {
			c, _ := inputComponent(in)
			s := lm.Site{Layer: rc.Layer, Component: c}
			p.recv[s] = append(p.recv[s], rc.Head)
			p.end = max(p.end, rc.Layer+1)
		}
	}
	if p.end >= p.d.Layers {
		p.end = 0
	}
	return p
}

// cacheSites are the sites step 1 caches.
func (p *pathGraph) cacheSites() []lm.Site {
	var sites []lm.Site
	for l := range p.d.Layers {
		sites = append(sites, lm.Site{Layer: l, Component: lm.HeadAttentionValueOutput})
	}
	if p.mlpCache {
		for l := range p.d.Layers {
			sites = append(sites, lm.Site{Layer: l, Component: lm.MLPOutput})
		}
	}
	return sites
}

// run runs every sender, cfg.ChunkSize at a time (the last chunk padded
// with settings that patch nothing, so that one compiled graph serves
// all), and returns each sender's metric.
func (p *pathGraph) run(r *lm.Runner, clean lm.Prompt, cache *lm.Result, senders []sender) ([]float64, error) {
	exec, err := graph.NewExec(p.m.Backend(), p.build)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	exec = exec.WithName("analysis.path_patch")
	n := min(p.cfg.ChunkSize, len(senders))
	batch, err := r.NewBatch(slices.Repeat([]lm.Prompt{clean}, n), 0)
	if err != nil {
		return nil, err
	}
	var extra []any
	for _, s := range p.cacheSites() {
		extra = append(extra, cache.Sites[s])
	}
	L, H := p.d.Layers, p.d.Heads
	out := make([]float64, 0, len(senders))
	for start := 0; start < len(senders); start += n {
		chunk := senders[start:min(start+n, len(senders))]
		heads, mlps := make([]float32, n*L*H), make([]float32, n*L)
		for i, s := range chunk {
			if s.head < 0 {
				mlps[i*L+s.layer] = 1
			} else {
				heads[(i*L+s.layer)*H+s.head] = 1
			}
		}
		args := lm.ForwardArgs{Params: p.m.Params(), Batch: batch, Extra: append(slices.Clone(extra),
			tensors.FromFlatDataAndDimensions(heads, n, L, H), tensors.FromFlatDataAndDimensions(mlps, n, L))}
		outs, err := exec.Call(args.List()...)
		if err != nil {
			return nil, fmt.Errorf("senders %d..%d: %w", start, start+len(chunk)-1, err)
		}
		for i := range chunk {
			v, err := scoreRow(outs[0], i, p.cfg.Metric)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// mix returns base where sel is 0 and other where it is 1 (sel broadcast
// to base's shape).
func mix(base, other, sel *graph.Node) *graph.Node {
	sel = graph.BroadcastToShape(sel, base.Shape())
	return graph.Add(graph.Mul(base, graph.OneMinus(sel)), graph.Mul(other, sel))
}

// cached returns row (0 clean, 1 corrupt) of a cached [2,...] site,
// broadcast to like's shape.
func cached(c *graph.Node, row int, like *graph.Node) *graph.Node {
	return graph.BroadcastToShape(graph.Slice(c, graph.AxisRange(row, row+1)), like.Shape())
}

// build is the graph of one chunk: step 2 (clean, senders corrupted, other
// heads frozen, receivers' inputs read) then step 3 (clean with the
// receivers' inputs of step 2), returning the last position's logits
// [n,1,vocab].
func (p *pathGraph) build(in []*graph.Node) []*graph.Node {
	p.builds.Add(1)
	fn := lm.SplitForward(in, len(p.m.Params()))
	L := p.d.Layers
	zs, rest := fn.Extra[:L], fn.Extra[L:]
	var mlpOut []*graph.Node
	if p.mlpCache {
		mlpOut, rest = rest[:L], rest[L:]
	}
	headSel, mlpSel := rest[0], rest[1] // [n,L,h], [n,L]
	n, H := headSel.Shape().Dimensions[0], p.d.Heads
	captured := map[lm.Site]*graph.Node{}
	step2 := func(s lm.Site, x *graph.Node) *graph.Node {
		switch {
		case s.Component == lm.HeadAttentionValueOutput:
			sel := graph.Reshape(graph.Slice(headSel, graph.AxisRange(), graph.AxisElem(s.Layer)), n, H, 1, 1)
			return mix(cached(zs[s.Layer], 0, x), cached(zs[s.Layer], 1, x), sel)
		case s.Component == lm.MLPOutput && p.mlpCache:
			sel := graph.Reshape(graph.Slice(mlpSel, graph.AxisRange(), graph.AxisElem(s.Layer)), n, 1, 1)
			base := x
			if p.cfg.FreezeMLPs {
				base = cached(mlpOut[s.Layer], 0, x)
			}
			return mix(base, cached(mlpOut[s.Layer], 1, x), sel)
		}
		if _, ok := p.recv[s]; ok {
			captured[s] = x
		}
		return x
	}
	in2 := fn.Inputs
	in2.LastOnly, in2.EndLayer = true, p.end
	logits := p.m.BuildForward(fn.Params, in2, step2)
	if len(p.recv) == 0 { // the logits receiver: step 3 is step 2
		return []*graph.Node{logits}
	}
	step3 := func(s lm.Site, x *graph.Node) *graph.Node {
		heads, ok := p.recv[s]
		if !ok {
			return x
		}
		hc := x.Shape().Dimensions[1]
		mask := make([]float32, hc)
		for _, h := range heads {
			mask[h] = 1
		}
		sel := graph.Reshape(graph.Const(x.Graph(), mask), 1, hc, 1, 1)
		return mix(x, captured[s], sel)
	}
	in3 := fn.Inputs
	in3.LastOnly = true
	return []*graph.Node{p.m.BuildForward(fn.Params, in3, step3)}
}
