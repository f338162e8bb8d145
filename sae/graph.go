package sae

import (
	"math"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// The settings an SAE's forward needs besides its weights, as the values
// of the "options" weight of the sae interventions (and the constants of
// EncodeNode): one float32 each.
const (
	optApplyBDec = iota // 1: subtract b_dec from the input
	optNormConst        // 1: constant_norm_rescale
	optNormLN           // 1: layer_norm
	optScale            // input factor (expected_average_only_in), 1 otherwise
	optK                // topk's k (topk kind only)
	optRescale          // 1: rescale_acts_by_decoder_norm
	optError            // 1: add the error term x - x_hat (splicing)
	numOpts
)

// options returns s's settings in the order of the opt constants; error
// says whether the splice keeps the error term.
func (s *SAE) options(withError bool) []float32 {
	o := make([]float32, numOpts)
	b := func(v bool) float32 {
		if v {
			return 1
		}
		return 0
	}
	o[optApplyBDec] = b(s.ApplyBDecToInput)
	o[optNormConst] = b(s.NormalizeActivations == NormConstantRescale)
	o[optNormLN] = b(s.NormalizeActivations == NormLayerNorm)
	o[optScale] = float32(s.scale())
	o[optK] = float32(s.K)
	o[optRescale] = b(s.RescaleActsByDecoderNorm)
	o[optError] = b(withError)
	return o
}

// params are an SAE's weights and settings as graph nodes.
type params struct {
	wEnc, bEnc, wDec, bDec, thr *graph.Node // [d,n], [n], [n,d], [d], [n]
	opt                         []*graph.Node
	topk                        bool
}

// newParams builds params from the weight nodes and the options vector.
func newParams(wEnc, bEnc, wDec, bDec, thr, opts *graph.Node, topk bool) params {
	p := params{wEnc: wEnc, bEnc: bEnc, wDec: wDec, bDec: bDec, thr: thr, topk: topk}
	for i := range numOpts {
		p.opt = append(p.opt, graph.Reshape(graph.Slice(opts, graph.AxisRange(i, i+1))))
	}
	return p
}

// constParams builds s's params as constants of graph g.
func (s *SAE) constParams(g *graph.Graph) params {
	d, n := s.DIn, s.DSAE
	thr := s.Threshold
	if thr == nil {
		thr = make([]float32, n)
	}
	c := func(v []float32, dims ...int) *graph.Node { return graph.Reshape(graph.Const(g, v), dims...) }
	return newParams(c(s.WEnc, d, n), c(s.BEnc, n), c(s.WDec, n, d), c(s.BDec, d), c(thr, n),
		graph.Const(g, s.options(false)), s.Architecture == ArchTopK)
}

// norm is the run-time normalisation of one encode, which decode undoes.
type norm struct{ coeff, std, mu *graph.Node }

// affine returns x (rank r, last axis a) times w ([a,b]) plus bias ([b]).
func affine(x, w, bias *graph.Node) *graph.Node {
	y := graph.MatMul(x, w)
	return graph.Add(y, graph.ExpandLeftToRank(bias, y.Rank()))
}

func one(x *graph.Node) *graph.Node { return graph.ScalarOne(x.Graph(), x.DType()) }

// encode returns the feature activations of x [..., d] and the
// normalisation to undo in decode.
func (p params) encode(x *graph.Node) (*graph.Node, norm) {
	d := x.Shape().Dimensions[x.Rank()-1]
	x = graph.Mul(x, p.opt[optScale])
	c, l := p.opt[optNormConst], p.opt[optNormLN]
	// constant_norm_rescale: x·sqrt(d)/|x|.
	size := graph.Max(graph.L2Norm(x, -1), graph.Scalar(x.Graph(), x.DType(), 1e-30))
	coeff := graph.Add(graph.Div(graph.MulScalar(c, math.Sqrt(float64(d))), size), graph.Sub(one(c), c))
	// layer_norm: (x - mean)/(std + 1e-5), std unbiased as torch's.
	mu := graph.Mul(l, graph.ReduceAndKeep(x, graph.ReduceMean, -1))
	xc := graph.Sub(x, mu)
	den := float64(max(d-1, 1))
	std := graph.Sqrt(graph.DivScalar(graph.ReduceAndKeep(graph.Square(xc), graph.ReduceSum, -1), den))
	stdIn := graph.Add(graph.Mul(l, graph.AddScalar(std, 1e-5)), graph.Sub(one(l), l))
	stdOut := graph.Add(graph.Mul(l, std), graph.Sub(one(l), l))
	in := graph.Mul(graph.Div(xc, stdIn), coeff)
	in = graph.Sub(in, graph.ExpandLeftToRank(graph.Mul(p.bDec, p.opt[optApplyBDec]), in.Rank()))
	pre := affine(in, p.wEnc, p.bEnc)
	if p.topk {
		pre = graph.Mul(pre, graph.ExpandLeftToRank(p.decNormFactor(), pre.Rank()))
	}
	f := graph.Max(pre, graph.ZerosLike(pre))
	if p.topk {
		f = graph.Mul(f, p.topKMask(pre))
	} else {
		on := graph.GreaterThan(pre, graph.BroadcastToShape(graph.ExpandLeftToRank(p.thr, pre.Rank()), pre.Shape()))
		f = graph.Mul(f, graph.ConvertDType(on, pre.DType()))
	}
	return f, norm{coeff: coeff, std: stdOut, mu: mu}
}

// decNormFactor is |W_dec row| where rescale_acts_by_decoder_norm is on,
// 1 elsewhere: [n].
func (p params) decNormFactor() *graph.Node {
	r := p.opt[optRescale]
	rows := graph.Sqrt(graph.ReduceSum(graph.Square(p.wDec), -1))
	return graph.Add(graph.Mul(r, rows), graph.Sub(one(r), r))
}

// topKMask is 1 where pre is among the k largest of its last axis (k from
// the options; ties at the k-th value all count), 0 elsewhere.
func (p params) topKMask(pre *graph.Node) *graph.Node {
	n := pre.Shape().Dimensions[pre.Rank()-1]
	sorted := graph.Sort(pre, -1, false)
	idx := graph.Iota(pre.Graph(), shapes.Make(pre.DType(), n), 0)
	pick := graph.ConvertDType(graph.Equal(idx, graph.AddScalar(p.opt[optK], -1)), pre.DType())
	kth := graph.ReduceAndKeep(graph.Mul(sorted, graph.ExpandLeftToRank(pick, sorted.Rank())), graph.ReduceSum, -1)
	return graph.ConvertDType(graph.GreaterOrEqual(pre, kth), pre.DType())
}

// decode returns the reconstruction of activations f [..., n], undoing
// the normalisation nm of their encode (nil: none but the scale).
func (p params) decode(f *graph.Node, nm *norm) *graph.Node {
	if p.topk {
		f = graph.Div(f, graph.ExpandLeftToRank(p.decNormFactor(), f.Rank()))
	}
	out := affine(f, p.wDec, p.bDec)
	if nm != nil {
		out = graph.Add(graph.Mul(graph.Div(out, nm.coeff), nm.std), nm.mu)
	}
	return graph.Div(out, p.opt[optScale])
}

// EncodeNode returns s's feature activations [..., d_sae] of x [..., d_in]
// (float32), in x's graph, with s's weights as constants. It panics
// inside graph building (which GoMLX turns into an error) when x's last
// axis is not d_in.
func (s *SAE) EncodeNode(x *graph.Node) *graph.Node {
	f, _ := s.constParams(x.Graph()).encode(x)
	return f
}

// DecodeNode returns s's reconstruction [..., d_in] of activations f
// [..., d_sae] (f·W_dec + b_dec, divided by Scale). Run-time
// normalisations (constant_norm_rescale, layer_norm) need the input's norm
// and are not undone: use ReconstructNode for a whole pass. It panics
// inside graph building on a last axis other than d_sae.
func (s *SAE) DecodeNode(f *graph.Node) *graph.Node {
	return s.constParams(f.Graph()).decode(f, nil)
}

// ReconstructNode returns s's reconstruction of x [..., d_in]:
// decode(encode(x)) with the input's normalisation undone, as SAELens'
// forward without the error term.
func (s *SAE) ReconstructNode(x *graph.Node) *graph.Node {
	p := s.constParams(x.Graph())
	f, nm := p.encode(x)
	return p.decode(f, &nm)
}
