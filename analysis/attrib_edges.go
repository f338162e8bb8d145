package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
)

// EdgeResult is edge attribution patching's answer (Syed, Rager and Conmy
// 2023): for every edge from an upstream node (the embeddings, a head, an
// MLP) to a downstream node that reads the residual stream after it (an
// attention layer's input, an MLP's input, the logits), the first-order
// estimate of how much patching the clean upstream output into that
// downstream input alone, in the corrupted run, moves the metric.
type EdgeResult struct {
	Metric govene.MetricSpec `json:"metric"`
	// Clean and Corrupt are the metric on the clean and the corrupted run.
	Clean   float64 `json:"clean"`
	Corrupt float64 `json:"corrupt"`
	// Upstream labels the senders: "embed" (token and position
	// embeddings), "L3H1" (layer 3's head 1), "3_mlp_out".
	Upstream []string `json:"upstream"`
	// Downstream labels the receivers: "3_attn_in" (layer 3's attention,
	// all heads), "3_mlp_in", "logits" (the final residual stream).
	Downstream []string `json:"downstream"`
	// Scores[u][v] = sum over positions and the model width of (clean -
	// corrupted output of u) x d metric / d (input of v), on the
	// corrupted run; 0 where u does not write before v reads.
	Scores [][]float64 `json:"scores"`
	// Edges lists every edge (u writes before v reads), largest |score|
	// first.
	Edges []Edge `json:"edges"`
}

// Edge is one edge's score.
type Edge struct {
	From  string  `json:"from"`
	To    string  `json:"to"`
	Score float64 `json:"score"`
}

// EdgeAttributionPatch is NewAttributor(m).Edges(clean, corrupt, metric).
func EdgeAttributionPatch(m lm.Model, clean, corrupt lm.Prompt, metric govene.MetricSpec) (*EdgeResult, error) {
	return NewAttributor(m).Edges(clean, corrupt, metric)
}

// edgeTolerance bounds, relative to the residual stream's largest value,
// how far resid_mid may be from block_input + attention_output (and
// block_output from resid_mid + mlp_output) for Edges to accept a model's
// blocks as sequential.
const edgeTolerance = 1e-4

// Edges runs edge attribution patching between heads and MLPs: one
// compiled graph (per prompt length and metric kind) runs the clean and
// the corrupted prompt and takes the metric's gradient with respect to the
// corrupted residual stream entering and leaving each attention layer and
// each MLP; the gradient of an attention layer's (an MLP's) input alone is
// the residual's gradient before it less the gradient after it.
//
// It needs sequential pre-norm blocks, whose attention and MLP outputs are
// added to the residual stream as they are (GPT-2, Llama and the like):
// a model without a resid_mid site (parallel attention and MLP) is an
// error, and so is one whose residual stream is not the sum of those
// outputs (post-norms, as in Gemma 2), found when the graph runs. Bad
// prompts and metrics are Patch's errors.
func (a *Attributor) Edges(clean, corrupt lm.Prompt, metric govene.MetricSpec) (*EdgeResult, error) {
	cfg, err := a.check(clean, corrupt, AttribConfig{Metric: metric, Components: []lm.Component{lm.HeadResult, lm.ResidMid, lm.MLPOutput}})
	if err != nil {
		return nil, fmt.Errorf("%w (edge attribution patching needs it)", err)
	}
	d := a.model.Dims()
	exec, err := a.edgeExec(clean.Len(), cfg.Metric.Kind == govene.MetricTokenProb)
	if err != nil {
		return nil, err
	}
	outs, err := a.run(exec, clean, corrupt, metric)
	if err != nil {
		return nil, err
	}
	res := &EdgeResult{Metric: metric}
	if res.Clean, err = scalar(outs[0]); err != nil {
		return nil, err
	}
	if res.Corrupt, err = scalar(outs[1]); err != nil {
		return nil, err
	}
	check, err := tensors.CopyFlatData[float32](outs[3])
	if err != nil {
		return nil, fmt.Errorf("analysis: edge check: %w", err)
	}
	if gap := float64(max(check[0], check[1])); gap > edgeTolerance*float64(check[2]) || math.IsNaN(gap) {
		return nil, fmt.Errorf("analysis: edge attribution patching needs sequential blocks (resid_mid = block_input + attention_output, block_output = resid_mid + mlp_output), but this model's residual stream differs from those sums by %g (largest residual value %g): its blocks normalize or mix their outputs before adding them", gap, check[2])
	}
	scores, err := tensors.CopyFlatData[float32](outs[2])
	if err != nil {
		return nil, fmt.Errorf("analysis: edge scores: %w", err)
	}
	ups, downs := edgeNodes(d)
	for _, u := range ups {
		res.Upstream = append(res.Upstream, u.label)
	}
	for _, v := range downs {
		res.Downstream = append(res.Downstream, v.label)
	}
	res.Scores = make([][]float64, len(ups))
	for i, u := range ups {
		res.Scores[i] = make([]float64, len(downs))
		for j, v := range downs {
			if !u.writesBefore(v) {
				continue
			}
			sc := float64(scores[i*len(downs)+j])
			res.Scores[i][j] = sc
			res.Edges = append(res.Edges, Edge{From: u.label, To: v.label, Score: sc})
		}
	}
	slices.SortStableFunc(res.Edges, func(x, y Edge) int { return cmp.Compare(math.Abs(y.Score), math.Abs(x.Score)) })
	return res, nil
}

// edgeNode is an upstream or downstream node of the edge graph: its layer
// (-1 for the embeddings, the number of layers for the logits) and whether
// it is an attention (head) or an MLP node.
type edgeNode struct {
	label string
	layer int
	attn  bool
}

// writesBefore reports whether upstream u's output is in the residual
// stream downstream v reads: u's layer is below v's, or u is a head and v
// the MLP of the same layer.
func (u edgeNode) writesBefore(v edgeNode) bool {
	return u.layer < v.layer || (u.layer == v.layer && u.attn && !v.attn)
}

// edgeNodes lists a model's upstream nodes (embed, then per layer its
// heads and its MLP) and downstream nodes (per layer its attention and its
// MLP, then the logits), in the order of the edge graph's axes.
func edgeNodes(d lm.Dims) (ups, downs []edgeNode) {
	ups = append(ups, edgeNode{label: "embed", layer: -1})
	for l := range d.Layers {
		ls := strconv.Itoa(l)
		for h := range d.Heads {
			ups = append(ups, edgeNode{label: "L" + ls + "H" + strconv.Itoa(h), layer: l, attn: true})
		}
		ups = append(ups, edgeNode{label: ls + "_mlp_out", layer: l})
		downs = append(downs, edgeNode{label: ls + "_attn_in", layer: l, attn: true}, edgeNode{label: ls + "_mlp_in", layer: l})
	}
	downs = append(downs, edgeNode{label: "logits", layer: d.Layers})
	return ups, downs
}

// edgeExec returns the compiled edge graph for prompts of s tokens. Its
// outputs: the clean and the corrupted metric, the scores [upstream,
// downstream] for every pair (edgeNodes' order), and [3] float32: the
// largest |resid_mid - block_input - attention_output|, the largest
// |block_output - resid_mid - mlp_output| and the largest |block_output|
// over the corrupted run.
func (a *Attributor) edgeExec(s int, prob bool) (*graph.Exec, error) {
	d := a.model.Dims()
	hooked := []lm.Component{lm.BlockInput, lm.ResidMid, lm.BlockOutput, lm.HeadResult, lm.AttentionOutput, lm.MLPOutput}
	key := fmt.Sprintf("edges;s=%d;prob=%t", s, prob)
	return a.cachedExec(key, func(p twoPass) []*graph.Node {
		site := func(l int, c lm.Component) lm.Site { return lm.Site{Layer: l, Component: c} }
		var nodes []*graph.Node
		for l := range d.Layers {
			nodes = append(nodes, p.corrupt(site(l, lm.BlockInput)), p.corrupt(site(l, lm.ResidMid)), p.corrupt(site(l, lm.BlockOutput)))
		}
		grads := graph.Gradient(p.corruptMetric, nodes...)
		g := func(l, k int) *graph.Node { return graph.Squeeze(f32(grads[3*l+k]), 0) } // [s,d]
		delta := func(l int, c lm.Component) *graph.Node { return graph.Squeeze(p.delta(site(l, c)), 0) }
		ups := []*graph.Node{graph.ExpandAxes(delta(0, lm.BlockInput), 0)}
		var downs []*graph.Node
		var gapMid, gapOut, scale *graph.Node
		for l := range d.Layers {
			ups = append(ups, delta(l, lm.HeadResult), graph.ExpandAxes(delta(l, lm.MLPOutput), 0))
			downs = append(downs, graph.Sub(g(l, 0), g(l, 1)), graph.Sub(g(l, 1), g(l, 2)))
			bi, rm, bo := f32(p.corrupt(site(l, lm.BlockInput))), f32(p.corrupt(site(l, lm.ResidMid))), f32(p.corrupt(site(l, lm.BlockOutput)))
			gm := graph.ReduceAllMax(graph.Abs(graph.Sub(rm, graph.Add(bi, f32(p.corrupt(site(l, lm.AttentionOutput)))))))
			go_ := graph.ReduceAllMax(graph.Abs(graph.Sub(bo, graph.Add(rm, f32(p.corrupt(site(l, lm.MLPOutput)))))))
			sc := graph.ReduceAllMax(graph.Abs(bo))
			if l == 0 {
				gapMid, gapOut, scale = gm, go_, sc
			} else {
				gapMid, gapOut, scale = graph.Max(gapMid, gm), graph.Max(gapOut, go_), graph.Max(scale, sc)
			}
		}
		downs = append(downs, g(d.Layers-1, 2))
		scores := graph.Einsum("usd,vsd->uv", graph.Concatenate(ups, 0), graph.Stack(downs, 0))
		return []*graph.Node{p.cleanMetric, p.corruptMetric, scores, graph.Stack([]*graph.Node{gapMid, gapOut, scale}, 0)}
	}, func(c lm.Component) bool { return slices.Contains(hooked, c) }, prob)
}
