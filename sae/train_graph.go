package sae

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// Parameter order of the training graph.
const (
	pWEnc = iota
	pBEnc
	pWDec
	pBDec
	pThreshold // jumprelu only
)

// Batch inputs of the training graph, after the parameters.
const (
	inX        = iota // [batch, d_in]
	inCoef            // scalar: the sparsity coefficient this step (l1 or l0, warmed up)
	inDead            // [d_sae]: 1 for dead features (topk aux loss)
	inAuxScale        // scalar: aux_loss_coefficient * min(dead/k_aux, 1); 0 without dead features
	inAuxK            // scalar: how many dead features the aux loss uses
)

// Extra outputs of the training graph, after the loss.
const (
	outMSE = iota
	outSparsity
	outAux
	outL0
	outEV
	outFired // [d_sae]: how many rows each feature fired on
)

// bisectSteps is how many halvings topKMask makes: enough to shrink the
// range between a row's smallest and largest value below float32's
// resolution at the k-th value, so the mask keeps exactly k (ties aside).
const bisectSteps = 32

// lossGraph holds what the training loss needs to know statically.
type lossGraph struct {
	arch      string
	k         int
	bandwidth float64
	auxLoss   bool // topk: build the aux-k loss
}

// relu is max(x, 0).
func relu(x *graph.Node) *graph.Node { return graph.Max(x, graph.ZerosLike(x)) }

// rows broadcasts a [n] vector to the shape of a [b, n] matrix like.
func rows(v, like *graph.Node) *graph.Node {
	return graph.BroadcastToShape(graph.ExpandLeftToRank(v, 2), like.Shape())
}

// perRow broadcasts a [b, 1] column to the shape of a [b, n] matrix like.
func perRow(c, like *graph.Node) *graph.Node { return graph.BroadcastToShape(c, like.Shape()) }

// float turns a boolean node into 0/1 float32.
func float(b *graph.Node) *graph.Node { return graph.ConvertDType(b, dtypes.Float32) }

// topKMask returns a 0/1 mask [b, n] of each row's k largest values of x
// (k a float32 scalar node), without gradient. It bisects, per row, for a
// threshold with at least k values above it: on the pure-Go backend a
// 200-step topk run on the shipped model takes 9 s this way and 127 s with
// graph.Sort, for the same SAE.
func topKMask(x, k *graph.Node) *graph.Node {
	x = graph.StopGradient(x)
	lo := graph.AddScalar(graph.ReduceAndKeep(x, graph.ReduceMin, -1), -1)
	hi := graph.ReduceAndKeep(x, graph.ReduceMax, -1)
	for range bisectSteps {
		mid := graph.MulScalar(graph.Add(lo, hi), 0.5)
		count := graph.ReduceAndKeep(float(graph.GreaterThan(x, perRow(mid, x))), graph.ReduceSum, -1)
		enough := graph.GreaterOrEqual(count, graph.BroadcastToShape(k, count.Shape()))
		lo = graph.Where(enough, mid, lo)
		hi = graph.Where(enough, hi, mid)
	}
	return float(graph.GreaterThan(x, perRow(lo, x)))
}

// rectangle is SAELens' rectangle((x - threshold) / bandwidth): 1 where
// |x - threshold| < bandwidth/2, without gradient.
func rectangle(x, thr *graph.Node, bandwidth float64) *graph.Node {
	u := graph.StopGradient(graph.DivScalar(graph.Sub(x, thr), bandwidth))
	return float(graph.LessThan(graph.Abs(u), graph.BroadcastToShape(graph.ConstAs(u, 0.5), u.Shape())))
}

// straightThrough returns value (no gradient) plus a term that is zero but
// passes thr the gradient d/dthr = grad (a node without gradient).
func straightThrough(value, thr, grad *graph.Node) *graph.Node {
	g := graph.Mul(thr, graph.StopGradient(grad))
	return graph.Add(graph.StopGradient(value), graph.Sub(g, graph.StopGradient(g)))
}

// jumpReLU is SAELens' JumpReLU autograd function: x * (x > thr), with
// gradient (x > thr) to x and -(thr/bandwidth) * rectangle to thr.
func jumpReLU(x, thr *graph.Node, bandwidth float64) *graph.Node {
	on := graph.StopGradient(float(graph.GreaterThan(x, thr)))
	ste := graph.Mul(graph.Neg(graph.DivScalar(graph.StopGradient(thr), bandwidth)), rectangle(x, thr, bandwidth))
	return graph.Add(graph.Mul(x, on), straightThrough(graph.ZerosLike(x), thr, ste))
}

// step is SAELens' Step autograd function: (x > thr), with gradient
// -(1/bandwidth) * rectangle to thr and none to x.
func step(x, thr *graph.Node, bandwidth float64) *graph.Node {
	on := float(graph.GreaterThan(x, thr))
	ste := graph.MulScalar(rectangle(x, thr, bandwidth), -1/bandwidth)
	return straightThrough(on, thr, ste)
}

// loss builds SAELens' training loss (TrainingSAE.training_forward_pass)
// for the architecture: MSE summed over d_in and averaged over rows, plus
// the standard SAE's l1 penalty weighted by decoder norms, the JumpReLU
// SAE's L0 penalty, or the TopK SAE's aux-k loss on dead features. It
// returns the metrics SAELens logs as extra outputs (see out*).
func (lg lossGraph) loss(p, in []*graph.Node) (*graph.Node, []*graph.Node) {
	x, coef := in[inX], in[inCoef]
	wEnc, bEnc, wDec, bDec := p[pWEnc], p[pBEnc], p[pWDec], p[pBDec]
	g := x.Graph()
	zero := graph.ScalarZero(g, dtypes.Float32)
	sae := graph.Sub(x, rows(bDec, x))
	pre := graph.MatMul(sae, wEnc)
	pre = graph.Add(pre, rows(bEnc, pre))
	decNorm := graph.Sqrt(graph.ReduceSum(graph.Square(wDec), 1)) // [d_sae]
	var f, sparsity *graph.Node
	sparsity = zero
	switch lg.arch {
	case ArchTopK:
		// rescale_acts_by_decoder_norm, SAELens' TopK training default.
		pre = graph.Mul(pre, rows(decNorm, pre))
		f = graph.Mul(relu(pre), topKMask(pre, graph.Scalar(g, dtypes.Float32, lg.k)))
	case ArchJumpReLU:
		thr := rows(p[pThreshold], pre)
		f = jumpReLU(pre, thr, lg.bandwidth)
		sparsity = graph.Mul(coef, graph.ReduceAllMean(graph.ReduceSum(step(pre, thr, lg.bandwidth), -1)))
	default:
		f = relu(pre)
		sparsity = graph.Mul(coef, graph.ReduceAllMean(graph.ReduceSum(graph.Mul(f, rows(decNorm, f)), -1)))
	}
	dec := f
	if lg.arch == ArchTopK {
		dec = graph.Div(f, rows(decNorm, f))
	}
	xHat := graph.MatMul(dec, wDec)
	xHat = graph.Add(xHat, rows(bDec, xHat))
	perRowSq := graph.ReduceSum(graph.Square(graph.Sub(xHat, x)), -1)
	mse := graph.ReduceAllMean(perRowSq)
	loss := graph.Add(mse, sparsity)
	aux := zero
	if lg.auxLoss {
		aux = lg.auxK(x, xHat, pre, decNorm, wDec, in)
		loss = graph.Add(loss, aux)
	}
	active := float(graph.NotEqual(f, graph.ZerosLike(f)))
	l0 := graph.ReduceAllMean(graph.ReduceSum(active, -1))
	centred := graph.Sub(x, graph.BroadcastToShape(graph.ReduceAndKeep(x, graph.ReduceMean, 0), x.Shape()))
	variance := graph.ReduceAllMean(graph.ReduceSum(graph.Square(centred), -1))
	ev := graph.Sub(graph.ScalarOne(g, dtypes.Float32), graph.Div(mse, variance))
	fired := graph.ReduceSum(active, 0)
	return loss, []*graph.Node{mse, sparsity, aux, l0, ev, fired}
}

// auxK is SAELens' TopK aux loss (calculate_topk_aux_loss): the top k_aux
// dead features' pre-activations, through the decoder without its bias,
// reconstruct the residual x - x_hat (no gradient), scaled.
func (lg lossGraph) auxK(x, xHat, pre, decNorm, wDec *graph.Node, in []*graph.Node) *graph.Node {
	dead := rows(in[inDead], pre)
	isDead := graph.GreaterThan(dead, graph.ZerosLike(dead))
	floor := perRow(graph.AddScalar(graph.ReduceAndKeep(graph.StopGradient(pre), graph.ReduceMin, -1), -1), pre)
	pick := graph.Mul(topKMask(graph.Where(isDead, pre, floor), in[inAuxK]), dead)
	acts := graph.Mul(pre, graph.StopGradient(pick))
	recons := graph.MatMul(graph.Div(acts, rows(decNorm, acts)), wDec)
	residual := graph.StopGradient(graph.Sub(x, xHat))
	return graph.Mul(in[inAuxScale], graph.ReduceAllMean(graph.ReduceSum(graph.Square(graph.Sub(recons, residual)), -1)))
}
