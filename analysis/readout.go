package analysis

import (
	"fmt"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// readout runs a model's own final norm and unembedding on given residual
// vectors, with the norm's scale replaced by a given one (the cached
// ln_final_scale): at a fixed scale the logits are an affine function of
// the residual (for models without a final logit soft-cap), exactly
// TransformerLens' apply_ln_to_stack followed by W_U and b_U with the norm
// folded into them. One graph per model serves every shape (GoMLX
// compiles each input shape once).
type readout struct {
	m     lm.Model
	dtype dtypes.DType
	mu    sync.Mutex // guards execs
	execs map[readoutKind]*graph.Exec
}

// readoutKind selects a readout graph: pick returns the logits of given
// tokens only; ownScale keeps the norm's own scale of each residual
// instead of replacing it by the given one.
type readoutKind struct{ pick, ownScale bool }

// readout returns the cache's readout for m, creating it on first use.
func (c *Cache) readout(m lm.Model) (*readout, error) {
	if !m.Dims().Equal(c.Dims) {
		return nil, fmt.Errorf("analysis: model dims %+v differ from the cache's %+v", m.Dims(), c.Dims)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read == nil || c.read.m != m {
		c.read = &readout{m: m, dtype: c.dtype, execs: map[readoutKind]*graph.Exec{}}
	}
	return c.read, nil
}

// exec returns the readout graph of kind k, compiling it on first use.
func (r *readout) exec(k readoutKind) (*graph.Exec, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.execs[k]; ok {
		return e, nil
	}
	e, err := graph.NewExec(r.m.Backend(), func(in []*graph.Node) *graph.Node { return r.build(in, k) })
	if err != nil {
		return nil, fmt.Errorf("analysis: compile the readout: %w", err)
	}
	e = e.WithName("analysis.readout")
	r.execs[k] = e
	return e, nil
}

// build is the readout graph: inputs are the model's parameters, the
// residuals [n,s,d] float32, the scales [n,s,1] float32 and, for k.pick,
// token ids [t] int32; the output is the logits [n,s,vocab] or, for
// k.pick, the logits of those tokens [n,s,t], float32. With k.ownScale the
// scales are ignored and the norm computes each residual's own.
func (r *readout) build(in []*graph.Node, k readoutKind) *graph.Node {
	np := len(r.m.Params())
	d := r.m.Dims()
	res, scale := in[np], in[np+1]
	logits := r.m.BuildForward(in[:np], lm.Inputs{Residual: graph.ConvertDType(res, r.dtype), StartLayer: d.Layers},
		func(s lm.Site, x *graph.Node) *graph.Node {
			if s.Component == lm.LNFinalScale && !k.ownScale {
				return graph.ConvertDType(scale, x.DType())
			}
			return x
		})
	logits = graph.ConvertDType(logits, dtypes.Float32)
	if k.pick {
		oneHot := graph.OneHot(in[np+2], d.Vocab, dtypes.Float32)
		logits = graph.Einsum("nsv,kv->nsk", logits, oneHot)
	}
	return logits
}

// run reads out n residual rows of s positions (res [n,s,d], scale
// [n,s,1]) and returns the logits [n,s,vocab], or [n,s,len(tokens)] for
// tokens.
func (r *readout) run(res, scale []float32, n, s int, tokens []int, ownScale bool) ([]float32, error) {
	d := r.m.Dims().Hidden
	args := make([]any, 0, len(r.m.Params())+3)
	for _, p := range r.m.Params() {
		args = append(args, p)
	}
	args = append(args, tensors.FromFlatDataAndDimensions(res, n, s, d), tensors.FromFlatDataAndDimensions(scale, n, s, 1))
	if tokens != nil {
		ids := make([]int32, len(tokens))
		for i, t := range tokens {
			ids[i] = int32(t)
		}
		args = append(args, tensors.FromFlatDataAndDimensions(ids, len(ids)))
	}
	exec, err := r.exec(readoutKind{pick: tokens != nil, ownScale: ownScale})
	if err != nil {
		return nil, err
	}
	outs, err := exec.Call(args...)
	if err != nil {
		return nil, err
	}
	return tensors.CopyFlatData[float32](outs[0])
}

// readoutBudget bounds the floats one readout call returns, so that a
// logit lens over a large vocabulary runs in chunks of components.
const readoutBudget = 1 << 24

// Readout returns the logits of each component of st through m's final
// norm, at the cache's final scale, and unembedding (TransformerLens'
// apply_ln_to_stack(st) @ W_U + b_U, with the final norm folded into W_U
// and b_U): a Stack with st's labels and Values [components, b, s, vocab],
// or [components, b, s, len(tokens)] holding only the logits of tokens.
// For models whose logits are soft-capped (Gemma 2) the cap is applied, so
// the readout is then not affine. It returns an error for a normalized
// stack (applyLN), a stack or model whose sizes differ from the cache's, a
// token outside the vocabulary, or a failing pass.
func Readout(m lm.Model, c *Cache, st *Stack, tokens ...int) (*Stack, error) {
	return c.readoutStack(m, st, tokens, false)
}

// readoutStack is Readout, or with ownScale the readout at each
// residual's own final-norm scale.
func (c *Cache) readoutStack(m lm.Model, st *Stack, tokens []int, ownScale bool) (*Stack, error) {
	if st.Normalized {
		return nil, fmt.Errorf("analysis: readout of a normalized stack: make it with applyLN false (the model's final norm applies the cached scale)")
	}
	b, s, d := c.Batch.Size, c.Batch.Len, c.Dims.Hidden
	if len(st.Shape) != 4 || st.Shape[1] != b || st.Shape[2] != s || st.Shape[3] != d || len(st.Values) != st.Shape[0]*b*s*d {
		return nil, fmt.Errorf("analysis: stack shape %v with %d values; the cache wants [n %d %d %d]", st.Shape, len(st.Values), b, s, d)
	}
	for _, t := range tokens {
		if t < 0 || t >= c.Dims.Vocab {
			return nil, fmt.Errorf("analysis: token %d outside the vocabulary [0, %d)", t, c.Dims.Vocab)
		}
	}
	r, err := c.readout(m)
	if err != nil {
		return nil, err
	}
	width := c.Dims.Vocab
	if tokens != nil {
		width = len(tokens)
	}
	n := st.Shape[0]
	chunk := max(1, min(n, readoutBudget/max(1, b*s*width)))
	scale := c.sites[lm.Site{Layer: -1, Component: lm.LNFinalScale}]
	scales := make([]float32, 0, chunk*len(scale))
	for range chunk {
		scales = append(scales, scale...)
	}
	per := b * s * d
	out := &Stack{Labels: st.Labels, Shape: []int{n, b, s, width}, Values: make([]float32, 0, n*b*s*width)}
	res := make([]float32, chunk*per)
	for k := 0; k < n; k += chunk {
		got := min(chunk, n-k)
		copy(res, st.Values[k*per:(k+got)*per])
		clear(res[got*per:])
		logits, err := r.run(res, scales, chunk*b, s, tokens, ownScale)
		if err != nil {
			return nil, fmt.Errorf("analysis: readout: %w", err)
		}
		out.Values = append(out.Values, logits[:got*b*s*width]...)
	}
	return out, nil
}
