package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
)

// attribute runs the attribution graph on a checked call and returns the
// result without exact patching.
func (a *Attributor) attribute(clean, corrupt lm.Prompt, cfg AttribConfig) (*AttribResult, error) {
	d := a.model.Dims()
	exec, err := a.attribExec(clean.Len(), cfg)
	if err != nil {
		return nil, err
	}
	outs, err := a.run(exec, clean, corrupt, cfg.Metric)
	if err != nil {
		return nil, err
	}
	res := &AttribResult{Metric: cfg.Metric, Tokens: positionLabels(corrupt)}
	if res.Clean, err = scalar(outs[0]); err != nil {
		return nil, err
	}
	if res.Corrupt, err = scalar(outs[1]); err != nil {
		return nil, err
	}
	s := clean.Len()
	for i, c := range cfg.Components {
		flat, err := tensors.CopyFlatData[float32](outs[2+i])
		if err != nil {
			return nil, fmt.Errorf("analysis: %s attribution: %w", c, err)
		}
		rows, layers, heads := rowLabels(d, c)
		g := make([][]float64, len(rows))
		for r := range g {
			g[r] = make([]float64, s)
			for p := range s {
				g[r][p] = float64(flat[r*s+p])
			}
		}
		res.Sites = append(res.Sites, SiteAttribution{Component: c, Rows: rows, Layers: layers, Heads: heads, Attribution: g})
	}
	return res, nil
}

// run runs a graph of cachedExec on clean and corrupt (batch rows 0 and
// 1) with metric's weights.
func (a *Attributor) run(exec *graph.Exec, clean, corrupt lm.Prompt, metric govene.MetricSpec) ([]*tensors.Tensor, error) {
	d := a.model.Dims()
	b, err := a.runner.NewBatch([]lm.Prompt{clean, corrupt}, 0)
	if err != nil {
		return nil, fmt.Errorf("analysis: %w", err)
	}
	w := metricWeights(metric, d.Vocab)
	outs, err := exec.Call(lm.ForwardArgs{Params: a.model.Params(), Batch: b,
		Extra: []any{tensors.FromFlatDataAndDimensions(w, d.Vocab)}}.List()...)
	if err != nil {
		return nil, fmt.Errorf("analysis: attribution graph: %w", err)
	}
	return outs, nil
}

// scalar reads a float32 scalar tensor.
func scalar(t *tensors.Tensor) (float64, error) {
	v, err := tensors.CopyFlatData[float32](t)
	if err != nil || len(v) != 1 {
		return 0, fmt.Errorf("analysis: reading a metric: %d values, %v", len(v), err)
	}
	return float64(v[0]), nil
}

// metricWeights returns the weights w [vocab] the graph's metric reads:
// logit_diff is w · logits with w = e_a - e_b, token_prob is w ·
// softmax(logits) with w = e_id.
func metricWeights(m govene.MetricSpec, vocab int) []float32 {
	w := make([]float32, vocab)
	w[m.Tokens[0]] = 1
	if m.Kind == govene.MetricLogitDiff {
		w[m.Tokens[1]] -= 1
	}
	return w
}

// attribExec returns the compiled attribution graph for prompts of s
// tokens and cfg's metric kind and components, compiling it on first use.
// Its arguments are lm.ForwardArgs with a batch of two rows (clean,
// corrupted) and the metric weights [vocab] as the one extra; its outputs
// the clean and the corrupted metric (scalars) and, per component, the
// attributions [layers, s] or [layers, heads, s].
func (a *Attributor) attribExec(s int, cfg AttribConfig) (*graph.Exec, error) {
	var key strings.Builder
	fmt.Fprintf(&key, "nodes;s=%d;metric=%s", s, cfg.Metric.Kind)
	for _, c := range cfg.Components {
		key.WriteString(";" + string(c))
	}
	d := a.model.Dims()
	comps := cfg.Components
	return a.cachedExec(key.String(), func(p twoPass) []*graph.Node {
		var nodes []*graph.Node
		for _, c := range comps {
			for l := range d.Layers {
				nodes = append(nodes, p.corrupt(lm.Site{Layer: l, Component: c}))
			}
		}
		grads := graph.Gradient(p.corruptMetric, nodes...)
		outs := []*graph.Node{p.cleanMetric, p.corruptMetric}
		for j, c := range comps {
			per := make([]*graph.Node, d.Layers)
			for l := range d.Layers {
				i := j*d.Layers + l
				delta := p.delta(lm.Site{Layer: l, Component: c})
				per[l] = graph.Squeeze(graph.ReduceSum(graph.Mul(delta, f32(grads[i])), -1), 0) // [s] or [h,s]
			}
			outs = append(outs, graph.Stack(per, 0))
		}
		return outs
	}, func(c lm.Component) bool { return slices.Contains(comps, c) }, cfg.Metric.Kind == govene.MetricTokenProb)
}

// twoPass is the clean and the corrupted run of one attribution graph:
// the values at the hooked sites (batch of one each) and the metrics.
type twoPass struct {
	cleanActs, corruptActs     map[lm.Site]*graph.Node
	cleanMetric, corruptMetric *graph.Node
}

// corrupt returns the corrupted run's node at site; it panics (while the
// graph is built) when the pass never reached it.
func (p twoPass) corrupt(site lm.Site) *graph.Node {
	x := p.corruptActs[site]
	if x == nil || p.cleanActs[site] == nil {
		panic(fmt.Errorf("analysis: the model's forward pass never reached site %s", site))
	}
	return x
}

// delta returns clean - corrupted at site, in float32.
func (p twoPass) delta(site lm.Site) *graph.Node {
	return graph.Sub(f32(p.cleanActs[site]), f32(p.corrupt(site)))
}

// cachedExec returns the executable stored under key, or compiles one
// that runs the clean and the corrupted row of its batch (hooking the
// components hook selects; the corrupted run's values there are new nodes
// the rest of its pass reads, so gradients can be taken with respect to
// them) and returns what build makes of the two passes. prob selects the
// token_prob metric, else logit_diff.
func (a *Attributor) cachedExec(key string, build func(twoPass) []*graph.Node, hook func(lm.Component) bool, prob bool) (*graph.Exec, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.execs[key]; ok {
		return e, nil
	}
	m := a.model
	nParams := len(m.Params())
	exec, err := graph.NewExec(m.Backend(), func(inputs []*graph.Node) []*graph.Node {
		a.compiles.Add(1)
		fn := lm.SplitForward(inputs, nParams)
		w := fn.Extra[0]
		p := twoPass{cleanActs: map[lm.Site]*graph.Node{}, corruptActs: map[lm.Site]*graph.Node{}}
		cleanLogits := m.BuildForward(fn.Params, batchRow(fn.Inputs, 0), func(site lm.Site, x *graph.Node) *graph.Node {
			if hook(site.Component) {
				p.cleanActs[site] = x
			}
			return x
		})
		// The hook returns the corrupted run's site values plus zeros, a new
		// node that the rest of the pass then reads (a head's result then
		// feeds the attention output through the per-head sum; GoMLX's
		// Identity has no gradient), so the gradient with respect to it is
		// the gradient with respect to the site's value.
		corruptLogits := m.BuildForward(fn.Params, batchRow(fn.Inputs, 1), func(site lm.Site, x *graph.Node) *graph.Node {
			if !hook(site.Component) {
				return x
			}
			y := graph.Add(x, graph.ZerosLike(x))
			p.corruptActs[site] = y
			return y
		})
		p.cleanMetric = graphMetric(cleanLogits, w, prob)
		p.corruptMetric = graphMetric(corruptLogits, w, prob)
		return build(p)
	})
	if err != nil {
		return nil, fmt.Errorf("analysis: compile the attribution graph: %w", err)
	}
	exec = exec.WithName("analysis.attribution")
	a.execs[key] = exec
	return exec, nil
}

// batchRow returns example i of a batch's inputs as a batch of one, with
// the logits of the last position only.
func batchRow(in lm.Inputs, i int) lm.Inputs {
	row := func(x *graph.Node) *graph.Node {
		return graph.Slice(x, graph.AxisElem(i), graph.AxisRange())
	}
	return lm.Inputs{IDs: row(in.IDs), Mask: row(in.Mask), Positions: row(in.Positions), LastOnly: true}
}

// graphMetric returns the metric of a batch of one's last logits [1,1,v]
// (or [1,s,v]: the last position is read) in float32: w · logits, or w ·
// softmax(logits) when prob.
func graphMetric(logits, w *graph.Node, prob bool) *graph.Node {
	dims := logits.Shape().Dimensions
	last := graph.Reshape(graph.Slice(logits, graph.AxisRange(), graph.AxisElem(dims[1]-1), graph.AxisRange()), dims[2])
	last = f32(last)
	if prob {
		last = graph.Softmax(last, -1)
	}
	return graph.ReduceAllSum(graph.Mul(last, w))
}

// f32 converts x to float32 (a no-op when it is).
func f32(x *graph.Node) *graph.Node {
	if x.DType() == dtypes.Float32 {
		return x
	}
	return graph.ConvertDType(x, dtypes.Float32)
}
