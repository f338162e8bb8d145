package analysis

import (
	"fmt"
	"math"
	"reflect"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// Cache is one forward pass's values at the sites the residual stream's
// analyses read (TransformerLens' ActivationCache, restricted to them):
// the embeddings, each block's input, resid_mid and output, the attention
// and MLP outputs, each head's result, the final norm's scale and the
// logits. Every value is float32 on the host with the batch's padded
// layout: example i's token j sits at column Batch.Offset(i)+j.
type Cache struct {
	// Dims are the model's sizes.
	Dims lm.Dims
	// Batch is the padded batch the cache was computed on.
	Batch *lm.Batch
	// Centered reports whether the model's final norm subtracts the mean
	// (LayerNorm: GPT-2, GPT-NeoX) rather than only dividing by the root
	// mean square (RMSNorm: Llama, Mistral, Qwen2, Gemma 2). It is
	// measured on the model's own final norm when the cache is made.
	Centered bool
	// Logits are the model's logits [b,s,vocab].
	Logits []float32

	model lm.Model
	// dtype is the residual stream's dtype in the model's graph.
	dtype dtypes.DType
	sites map[lm.Site][]float32

	mu   sync.Mutex // guards read
	read *readout
}

// cachedSites returns the sites a Cache holds for a model with dims d.
func cachedSites(d lm.Dims) []lm.Site {
	sites := []lm.Site{{Layer: -1, Component: lm.Embed}, {Layer: -1, Component: lm.LNFinalScale}}
	if d.Has(lm.PosEmbed) {
		sites = append(sites, lm.Site{Layer: -1, Component: lm.PosEmbed})
	}
	for l := range d.Layers {
		for _, c := range []lm.Component{lm.BlockInput, lm.ResidMid, lm.BlockOutput, lm.AttentionOutput, lm.MLPOutput, lm.HeadResult} {
			if d.Has(c) {
				sites = append(sites, lm.Site{Layer: l, Component: c})
			}
		}
	}
	return sites
}

// lastCacheExec keeps the caching pass of the last model cached (only one,
// so that it holds no model alive after the next is cached): repeated
// caches on one model compile once.
var lastCacheExec struct {
	sync.Mutex
	m    lm.Model
	exec *graph.Exec
}

// cacheExec returns the graph running m and returning, as float32, its
// logits then the values at sites, and the residual stream's dtype as a
// last output (a scalar of that dtype).
func cacheExec(m lm.Model, sites []lm.Site) (*graph.Exec, error) {
	comparable := reflect.TypeOf(m).Comparable()
	lastCacheExec.Lock()
	defer lastCacheExec.Unlock()
	if comparable && lastCacheExec.exec != nil && reflect.TypeOf(lastCacheExec.m) == reflect.TypeOf(m) && lastCacheExec.m == m {
		return lastCacheExec.exec, nil
	}
	nParams := len(m.Params())
	want := map[lm.Site]int{}
	for i, s := range sites {
		want[s] = i
	}
	exec, err := graph.NewExec(m.Backend(), func(in []*graph.Node) []*graph.Node {
		fn := lm.SplitForward(in, nParams)
		outs := make([]*graph.Node, 2+len(sites))
		var kind *graph.Node
		logits := m.BuildForward(fn.Params, fn.Inputs, func(s lm.Site, x *graph.Node) *graph.Node {
			if i, ok := want[s]; ok {
				outs[1+i] = graph.ConvertDType(x, dtypes.Float32)
			}
			if s.Component == lm.BlockInput && s.Layer == 0 {
				kind = graph.Slice(graph.Reshape(x, -1), graph.AxisRange(0, 1))
			}
			return x
		})
		outs[0] = graph.ConvertDType(logits, dtypes.Float32)
		outs[len(outs)-1] = kind
		return outs
	})
	if err != nil {
		return nil, fmt.Errorf("analysis: compile the caching pass: %w", err)
	}
	exec = exec.WithName("analysis.cache")
	if comparable {
		lastCacheExec.m, lastCacheExec.exec = m, exec
	}
	return exec, nil
}

// RunWithCache runs prompts through m, left-padded into one batch with
// m.PadID(), split across m's devices (lm.DevicesOf), and returns the
// Cache of that pass. It returns an error for
// no prompts, an empty or too long prompt, a token id outside the
// vocabulary, a model with no layers or a failing forward pass.
func RunWithCache(m lm.Model, prompts []lm.Prompt) (*Cache, error) {
	d := m.Dims()
	if d.Layers < 1 {
		return nil, fmt.Errorf("analysis: model has %d layers; want at least 1", d.Layers)
	}
	batch, err := lm.NewRunner(m, m.PadID()).NewBatch(prompts, 0)
	if err != nil {
		return nil, fmt.Errorf("analysis: cache: %w", err)
	}
	sites := cachedSites(d)
	exec, err := cacheExec(m, sites)
	if err != nil {
		return nil, err
	}
	args, err := lm.ForwardArgs{Params: m.Params(), Batch: batch}.Args()
	if err != nil {
		return nil, fmt.Errorf("analysis: caching pass: %w", err)
	}
	// The logits and sites are batch-first; the dtype probe, last, is not.
	outs, err := lm.DevicesOf(m).Call(exec, args, func(i int) bool { return i <= len(sites) })
	if err != nil {
		return nil, fmt.Errorf("analysis: caching pass: %w", err)
	}
	c := &Cache{Dims: d, Batch: batch, model: m, dtype: outs[len(outs)-1].DType(), sites: map[lm.Site][]float32{}}
	if c.Logits, err = tensors.CopyFlatData[float32](outs[0]); err != nil {
		return nil, fmt.Errorf("analysis: cache logits: %w", err)
	}
	for i, s := range sites {
		if c.sites[s], err = tensors.CopyFlatData[float32](outs[1+i]); err != nil {
			return nil, fmt.Errorf("analysis: cache site %s: %w", s, err)
		}
	}
	if c.Centered, err = c.centered(); err != nil {
		return nil, err
	}
	return c, nil
}

// Site returns the cached value at s (float32, padded layout, as the
// model's hook sees it: [b,s,d], [b,s,1] for ln_final_scale,
// [b,heads,s,d] for head_result), or nil when the cache does not hold s.
func (c *Cache) Site(s lm.Site) []float32 { return c.sites[s] }

// centered tells a LayerNorm from an RMSNorm by running the model's final
// norm, at a fixed scale of 1, on two constant residuals: a LayerNorm
// centers both to zero (equal logits), an RMSNorm does not.
func (c *Cache) centered() (bool, error) {
	d := c.Dims.Hidden
	res := make([]float32, 2*d)
	for i := range res {
		res[i] = float32(1 + i/d)
	}
	r, err := c.readout(c.model)
	if err != nil {
		return false, err
	}
	out, err := r.run(res, []float32{1, 1}, 2, 1, nil, false)
	if err != nil {
		return false, fmt.Errorf("analysis: probe the final norm: %w", err)
	}
	v := len(out) / 2
	for i := range v {
		a, b := float64(out[i]), float64(out[v+i])
		if math.Abs(a-b) > 1e-5*max(1, math.Abs(a)) {
			return false, nil
		}
	}
	return true, nil
}

// Stack is a stack of residual-stream components (TransformerLens'
// accumulated_resid, decompose_resid and stack_head_results): Values
// [components, b, s, d] float32 row-major, component k labelled Labels[k],
// in the cache's padded batch layout.
type Stack struct {
	Labels []string  `json:"labels"`
	Shape  []int     `json:"shape"`
	Values []float32 `json:"values"`
	// Normalized reports that the final norm's centering and cached scale
	// were applied (applyLN): such a stack is no longer in the residual
	// stream's units and Readout and DLA refuse it.
	Normalized bool `json:"normalized"`
}

// Row returns component k's vector at example i's padded column j (a view,
// not a copy), or nil when an index is out of range or the stack is not
// [components, b, s, d].
func (st *Stack) Row(k, i, j int) []float32 {
	if len(st.Shape) != 4 {
		return nil
	}
	n, b, s, d := st.Shape[0], st.Shape[1], st.Shape[2], st.Shape[3]
	if k < 0 || k >= n || i < 0 || i >= b || j < 0 || j >= s {
		return nil
	}
	off := ((k*b+i)*s + j) * d
	return st.Values[off : off+d]
}

// stackBuilder accumulates [b,s,d] components into a Stack.
type stackBuilder struct {
	st   Stack
	size int
}

func (c *Cache) newStack() *stackBuilder {
	n := c.Batch.Size * c.Batch.Len * c.Dims.Hidden
	return &stackBuilder{st: Stack{Shape: []int{0, c.Batch.Size, c.Batch.Len, c.Dims.Hidden}}, size: n}
}

// add appends one component (len size; copied).
func (sb *stackBuilder) add(label string, v []float32) {
	sb.st.Labels = append(sb.st.Labels, label)
	sb.st.Values = append(sb.st.Values, v...)
	sb.st.Shape[0]++
}

// finish applies the final norm's centering and scale when applyLN.
func (sb *stackBuilder) finish(c *Cache, applyLN bool) *Stack {
	if applyLN {
		c.applyLN(sb.st.Values)
		sb.st.Normalized = true
	}
	return &sb.st
}

// layerArg resolves TransformerLens' layer argument: -1 means every layer
// (Layers), else 0..Layers.
func (c *Cache) layerArg(layer int, applyLN bool) (int, error) {
	n := c.Dims.Layers
	if layer == -1 {
		layer = n
	}
	if layer < 0 || layer > n {
		return 0, fmt.Errorf("analysis: layer %d out of range; valid: -1 (all) or 0..%d", layer, n)
	}
	if applyLN && layer != n {
		return 0, fmt.Errorf("analysis: applyLN at layer %d: only the final norm's scale (layer %d or -1) is cached; block %d's norm scale is not a site", layer, n, layer)
	}
	return layer, nil
}

// AccumulatedResid returns the residual stream entering each block below
// layer and layer's own (TransformerLens' accumulated_resid): labels
// "0_pre" (the embeddings), "0_mid" (with inclMid, for models with
// resid_mid), "1_pre", ..., and "final_post" (the last block's output) when
// layer is Layers or -1. applyLN applies the final norm as TransformerLens'
// apply_ln_to_stack does with the cached scale: subtract each vector's mean
// (LayerNorm models only) and divide by ln_final_scale, without the norm's
// weight and bias (which TransformerLens folds into the unembedding). It
// returns an error for layer outside -1..Layers, or applyLN with a layer
// other than Layers (block norms' scales are not cached).
func (c *Cache) AccumulatedResid(layer int, inclMid, applyLN bool) (*Stack, error) {
	layer, err := c.layerArg(layer, applyLN)
	if err != nil {
		return nil, err
	}
	sb := c.newStack()
	for l := 0; l <= layer; l++ {
		if l == c.Dims.Layers {
			sb.add("final_post", c.sites[lm.Site{Layer: l - 1, Component: lm.BlockOutput}])
			break
		}
		sb.add(fmt.Sprintf("%d_pre", l), c.sites[lm.Site{Layer: l, Component: lm.BlockInput}])
		if mid := c.sites[lm.Site{Layer: l, Component: lm.ResidMid}]; inclMid && l < layer && mid != nil {
			sb.add(fmt.Sprintf("%d_mid", l), mid)
		}
	}
	return sb.finish(c, applyLN), nil
}

// DecomposeResid returns the residual stream entering layer (Layers or -1:
// the last block's output) as the sum of its components (TransformerLens'
// decompose_resid): "embed" (block 0's input less the position
// embeddings), "pos_embed" (models with learned positions), then for each
// block l below layer "{l}_attn_out" and "{l}_mlp_out", what the attention
// and the MLP add to the stream: resid_mid - block input and block output -
// resid_mid, so that for Gemma 2 they are taken after its post-norms; for
// GPT-NeoX's parallel blocks (no resid_mid) the attention_output and
// mlp_output sites. The biases of the output projections are inside these
// components (there is no separate bias term, as in TransformerLens), so
// the components sum to the residual stream. applyLN is
// AccumulatedResid's; the errors are AccumulatedResid's.
func (c *Cache) DecomposeResid(layer int, applyLN bool) (*Stack, error) {
	layer, err := c.layerArg(layer, applyLN)
	if err != nil {
		return nil, err
	}
	sb := c.newStack()
	embed := c.sites[lm.Site{Layer: 0, Component: lm.BlockInput}]
	if pos := c.sites[lm.Site{Layer: -1, Component: lm.PosEmbed}]; pos != nil {
		sb.add("embed", subVec(embed, pos))
		sb.add("pos_embed", pos)
	} else {
		sb.add("embed", embed)
	}
	for l := range layer {
		at := func(comp lm.Component) []float32 { return c.sites[lm.Site{Layer: l, Component: comp}] }
		if mid := at(lm.ResidMid); mid != nil {
			sb.add(fmt.Sprintf("%d_attn_out", l), subVec(mid, at(lm.BlockInput)))
			sb.add(fmt.Sprintf("%d_mlp_out", l), subVec(at(lm.BlockOutput), mid))
		} else {
			sb.add(fmt.Sprintf("%d_attn_out", l), at(lm.AttentionOutput))
			sb.add(fmt.Sprintf("%d_mlp_out", l), at(lm.MLPOutput))
		}
	}
	return sb.finish(c, applyLN), nil
}

// StackHeadResults returns every head's result in the blocks below layer
// (Layers or -1: all), labelled "L{l}H{h}" (TransformerLens'
// stack_head_results): each head's output through its slice of the output
// projection, without the projection's bias. With inclRemainder a last
// component "remainder" is the residual stream entering layer less the
// heads (embeddings, MLPs, attention biases; for Gemma 2 also the effect
// of its attention post-norms, since head results are taken before them),
// so that the stack sums to the stream. applyLN and the errors are
// AccumulatedResid's.
func (c *Cache) StackHeadResults(layer int, inclRemainder, applyLN bool) (*Stack, error) {
	layer, err := c.layerArg(layer, applyLN)
	if err != nil {
		return nil, err
	}
	sb := c.newStack()
	b, s, d, heads := c.Batch.Size, c.Batch.Len, c.Dims.Hidden, c.Dims.Heads
	head := make([]float32, sb.size)
	for l := range layer {
		hr := c.sites[lm.Site{Layer: l, Component: lm.HeadResult}]
		for h := range heads {
			for i := range b { // [b,h,s,d] -> [b,s,d]
				copy(head[i*s*d:(i+1)*s*d], hr[(i*heads+h)*s*d:(i*heads+h+1)*s*d])
			}
			sb.add(fmt.Sprintf("L%dH%d", l, h), head)
		}
	}
	if inclRemainder {
		rest := c.residAt(layer)
		rest = append([]float32(nil), rest...)
		for k := range sb.st.Shape[0] {
			for o, v := range sb.st.Values[k*sb.size : (k+1)*sb.size] {
				rest[o] -= v
			}
		}
		sb.add("remainder", rest)
	}
	return sb.finish(c, applyLN), nil
}

// residAt returns the residual stream entering block layer, or the last
// block's output for layer == Layers.
func (c *Cache) residAt(layer int) []float32 {
	if layer == c.Dims.Layers {
		return c.sites[lm.Site{Layer: layer - 1, Component: lm.BlockOutput}]
	}
	return c.sites[lm.Site{Layer: layer, Component: lm.BlockInput}]
}

// applyLN centers (LayerNorm models) and divides each d-vector of a
// [n,b,s,d] stack by the cached final scale at its (b,s), in place.
func (c *Cache) applyLN(v []float32) {
	d := c.Dims.Hidden
	scale := c.sites[lm.Site{Layer: -1, Component: lm.LNFinalScale}]
	rows := len(scale) // b*s
	for r := range len(v) / d {
		row := v[r*d : (r+1)*d]
		mean := 0.0
		if c.Centered {
			for _, x := range row {
				mean += float64(x)
			}
			mean /= float64(d)
		}
		sc := float64(scale[r%rows])
		for o, x := range row {
			row[o] = float32((float64(x) - mean) / sc)
		}
	}
}

// subVec returns a - b elementwise (a new slice).
func subVec(a, b []float32) []float32 {
	out := make([]float32, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}
