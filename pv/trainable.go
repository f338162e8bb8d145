package pv

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Trainable and basis-changing intervention types, with pyvene's math. W is
// an orthonormal rotation (columns), rb = b·W and rs = s·W the rotated base
// and source.
const (
	RotatedSpace            Type = "rotated_space"              // ((rb)[S] <- (rs)[S])·Wᵀ, W n×n
	LowRankRotatedSpace     Type = "low_rank_rotated_space"     // b + ((rs-rb)[S])·W[:,S]ᵀ, W n×r
	BoundlessRotatedSpace   Type = "boundless_rotated_space"    // learned soft boundary in rotated space
	SigmoidMaskRotatedSpace Type = "sigmoid_mask_rotated_space" // learned sigmoid mask in rotated space
	SigmoidMask             Type = "sigmoid_mask"               // learned sigmoid mask in the neuron basis
	PCARotatedSpace         Type = "pca_rotated_space"          // swap in a fixed PCA basis
	Autoencoder             Type = "autoencoder"                // swap latents of a ReLU autoencoder
	JumpReLUAutoencoder     Type = "jumprelu_autoencoder"       // swap latents of a JumpReLU SAE
)

func init() {
	Types = append(Types, RotatedSpace, LowRankRotatedSpace, BoundlessRotatedSpace,
		SigmoidMaskRotatedSpace, SigmoidMask, PCARotatedSpace, Autoencoder, JumpReLUAutoencoder)
	for k, v := range map[string]Type{
		"RotatedSpaceIntervention":            RotatedSpace,
		"LowRankRotatedSpaceIntervention":     LowRankRotatedSpace,
		"BoundlessRotatedSpaceIntervention":   BoundlessRotatedSpace,
		"SigmoidMaskRotatedSpaceIntervention": SigmoidMaskRotatedSpace,
		"SigmoidMaskIntervention":             SigmoidMask,
		"PCARotatedSpaceIntervention":         PCARotatedSpace,
		"AutoencoderIntervention":             Autoencoder,
		"JumpReLUAutoencoderIntervention":     JumpReLUAutoencoder,
	} {
		pyveneTypeNames[k] = v
	}
}

// Trainable reports whether interventions of type t have weights that
// training updates.
func (t Type) Trainable() bool {
	switch t {
	case RotatedSpace, LowRankRotatedSpace, BoundlessRotatedSpace, SigmoidMaskRotatedSpace,
		SigmoidMask, Autoencoder, JumpReLUAutoencoder:
		return true
	}
	return false
}

// hasWeights reports whether type t carries weights (trainable or fixed).
func (t Type) hasWeights() bool { return t.Trainable() || t == PCARotatedSpace }

// weightSpec is one named weight of an intervention and whether training
// updates it.
type weightSpec struct {
	name      string
	shape     []int
	trainable bool
	orth      bool // an orthonormal parametrization: the stored value is θ, used as orth(θ)
}

// weightSpecs lists the weights of representation r whose unit is w wide,
// with pyvene's state-dict names.
func weightSpecs(r RepresentationConfig, w int) []weightSpec {
	k := r.LowRankDimension
	switch r.InterventionType {
	case RotatedSpace:
		return []weightSpec{{"rotate_layer", []int{w, w}, true, true}}
	case LowRankRotatedSpace:
		return []weightSpec{{"rotate_layer", []int{w, k}, true, true}}
	case BoundlessRotatedSpace:
		return []weightSpec{{"rotate_layer", []int{w, w}, true, true}, {"intervention_boundaries", []int{1}, true, false}}
	case SigmoidMaskRotatedSpace:
		return []weightSpec{{"rotate_layer", []int{w, w}, true, true}, {"masks", []int{w}, true, false}}
	case SigmoidMask:
		return []weightSpec{{"mask", []int{w}, true, false}}
	case PCARotatedSpace:
		return []weightSpec{{"pca_components", []int{k, w}, false, false}, {"pca_mean", []int{w}, false, false}, {"pca_std", []int{w}, false, false}}
	case Autoencoder:
		return []weightSpec{{"encoder.weight", []int{k, w}, true, false}, {"encoder.bias", []int{k}, true, false},
			{"decoder.weight", []int{w, k}, true, false}, {"decoder.bias", []int{w}, true, false}}
	case JumpReLUAutoencoder:
		return []weightSpec{{"W_enc", []int{w, k}, true, false}, {"W_dec", []int{k, w}, true, false},
			{"threshold", []int{k}, true, false}, {"b_enc", []int{k}, true, false}, {"b_dec", []int{w}, true, false}}
	}
	return nil
}

// initialWeights draws pyvene's initial values: orthonormal rotations (QR
// of a Gaussian), boundaries 0.5, rotated-space masks 100, neuron masks 0,
// autoencoders as torch.nn.Linear (uniform ±1/sqrt(fan_in)), PCA and
// JumpReLU zeros (they are loaded).
func initialWeights(specs []weightSpec, seed uint64) []*tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0xda5))
	var out []*tensors.Tensor
	for _, s := range specs {
		size := 1
		for _, d := range s.shape {
			size *= d
		}
		v := make([]float32, size)
		switch {
		case s.orth:
			v = randomOrthonormal(s.shape[0], s.shape[1], rng)
		case s.name == "intervention_boundaries":
			v[0] = 0.5
		case s.name == "masks":
			for i := range v {
				v[i] = 100
			}
		case s.name == "encoder.weight" || s.name == "decoder.weight" || s.name == "encoder.bias" || s.name == "decoder.bias":
			fanIn := s.shape[len(s.shape)-1]
			if s.name == "encoder.bias" || s.name == "decoder.bias" {
				fanIn = map[bool]int{true: specs[0].shape[1], false: specs[2].shape[1]}[s.name == "encoder.bias"]
			}
			bound := 1 / math.Sqrt(float64(fanIn))
			for i := range v {
				v[i] = float32((rng.Float64()*2 - 1) * bound)
			}
		}
		out = append(out, tensors.FromFlatDataAndDimensions(v, s.shape...))
	}
	return out
}

// randomOrthonormal returns an n×k matrix (row-major) with orthonormal
// columns: Gram-Schmidt of a Gaussian matrix, as torch.nn.init.orthogonal_.
func randomOrthonormal(n, k int, rng *rand.Rand) []float32 {
	cols := make([][]float64, k)
	for j := range cols {
		for {
			c := make([]float64, n)
			for i := range c {
				c[i] = rng.NormFloat64()
			}
			for _, p := range cols[:j] {
				dot := 0.0
				for i := range c {
					dot += c[i] * p[i]
				}
				for i := range c {
					c[i] -= dot * p[i]
				}
			}
			norm := 0.0
			for _, x := range c {
				norm += x * x
			}
			if norm = math.Sqrt(norm); norm > 1e-6 {
				for i := range c {
					c[i] /= norm
				}
				cols[j] = c
				break
			}
		}
	}
	out := make([]float32, n*k)
	for i := range n {
		for j := range k {
			out[i*k+j] = float32(cols[j][i])
		}
	}
	return out
}

// orthonormal maps θ (n×k, full column rank) to the orthonormal matrix
// closest to it, θ(θᵀθ)^(-1/2), with a coupled Newton–Schulz iteration made
// only of matmuls, so it has gradients on every backend. For θ already
// orthonormal it returns θ (to float32 precision).
func orthonormal(theta *graph.Node) *graph.Node {
	k := theta.Shape().Dimensions[1]
	g := theta.Graph()
	a := graph.Einsum("ik,il->kl", theta, theta) // θᵀθ, k×k
	// Scale the spectrum into (0, 1]: divide by the largest absolute row sum,
	// a bound on the spectral radius that is 1 when θ is orthonormal, so
	// the iteration starts converged there.
	c := graph.ReduceAllMax(graph.ReduceSum(graph.Abs(a), 1))
	y := graph.Div(a, c)
	eye := graph.DiagonalWithValue(graph.Scalar(g, dtypes.Float32, 1), k)
	z := eye
	three := graph.MulScalar(eye, 3)
	for range 24 {
		t := graph.MulScalar(graph.Sub(three, graph.MatMul(z, y)), 0.5)
		y = graph.MatMul(y, t)
		z = graph.MatMul(t, z)
	}
	// z ≈ (θᵀθ/c)^(-1/2), so (θᵀθ)^(-1/2) = z / sqrt(c).
	return graph.Div(graph.MatMul(theta, z), graph.Sqrt(c))
}

// trainableUnits applies a weighted intervention to units base and source
// [..., w], with the subspace mask ms broadcast to the space it selects
// (rotated or latent dims), weights the param nodes in weightSpecs order
// and temp the temperature (a scalar).
func trainableUnits(r RepresentationConfig, base, src, ms *graph.Node, weights []*graph.Node, temp *graph.Node) *graph.Node {
	rank := base.Rank()
	expand := func(v *graph.Node) *graph.Node { return graph.ExpandLeftToRank(v, rank) }
	switch r.InterventionType {
	case RotatedSpace:
		w := orthonormal(weights[0])
		rb, rs := rotate(base, w), rotate(src, w)
		return unrotate(graph.Add(rb, graph.Mul(ms, graph.Sub(rs, rb))), w)
	case LowRankRotatedSpace:
		w := orthonormal(weights[0])
		diff := graph.Mul(ms, graph.Sub(rotate(src, w), rotate(base, w)))
		return graph.Add(base, unrotate(diff, w))
	case BoundlessRotatedSpace:
		w := orthonormal(weights[0])
		n := w.Shape().Dimensions[0]
		rb, rs := rotate(base, w), rotate(src, w)
		// clamp(boundary, 1e-3, 1) with Min/Max, which have gradients on every
		// backend (Clamp has none on the pure-Go one).
		b := graph.Max(graph.Min(weights[1], graph.OnesLike(weights[1])), graph.MulScalar(graph.OnesLike(weights[1]), 1e-3))
		pop := graph.Iota(base.Graph(), shapes.Make(dtypes.Float32, n), 0)
		hi := graph.MulScalar(b, float64(n))
		mask := graph.Mul(graph.Sigmoid(graph.Div(pop, temp)), graph.Sigmoid(graph.Div(graph.Sub(hi, pop), temp)))
		mask = graph.Mul(expand(mask), ms)
		return unrotate(graph.Add(rb, graph.Mul(mask, graph.Sub(rs, rb))), w)
	case SigmoidMaskRotatedSpace:
		w := orthonormal(weights[0])
		rb, rs := rotate(base, w), rotate(src, w)
		mask := graph.Mul(expand(graph.Sigmoid(graph.Div(weights[1], temp))), ms)
		return unrotate(graph.Add(rb, graph.Mul(mask, graph.Sub(rs, rb))), w)
	case SigmoidMask:
		mask := graph.Mul(expand(graph.Sigmoid(graph.Div(weights[0], temp))), ms)
		return graph.Add(base, graph.Mul(mask, graph.Sub(src, base)))
	case PCARotatedSpace:
		comp, mean, std := weights[0], expand(weights[1]), expand(weights[2])
		norm := func(x *graph.Node) *graph.Node {
			return lin(graph.Div(graph.Sub(x, mean), std), comp, true)
		}
		rb, rs := norm(base), norm(src)
		swapped := graph.Add(rb, graph.Mul(ms, graph.Sub(rs, rb)))
		return graph.Add(graph.Mul(lin(swapped, comp, false), std), mean)
	case Autoencoder:
		encW, encB, decW, decB := weights[0], weights[1], weights[2], weights[3]
		enc := func(x *graph.Node) *graph.Node {
			pre := graph.Add(lin(graph.Sub(x, expand(decB)), encW, true), expand(encB))
			return graph.Max(pre, graph.ZerosLike(pre))
		}
		lb, ls := enc(base), enc(src)
		lat := graph.Add(lb, graph.Mul(ms, graph.Sub(ls, lb)))
		return graph.Add(lin(lat, decW, true), expand(decB))
	case JumpReLUAutoencoder:
		wEnc, wDec, thr, bEnc, bDec := weights[0], weights[1], weights[2], weights[3], weights[4]
		enc := func(x *graph.Node) *graph.Node {
			pre := graph.Add(lin(x, wEnc, false), expand(bEnc))
			on := graph.ConvertDType(graph.GreaterThan(pre, graph.BroadcastToShape(expand(thr), pre.Shape())), dtypes.Float32)
			return graph.Mul(on, graph.Max(pre, graph.ZerosLike(pre)))
		}
		lb, ls := enc(base), enc(src)
		lat := graph.Add(lb, graph.Mul(ms, graph.Sub(ls, lb)))
		return graph.Add(lin(lat, wDec, false), expand(bDec))
	}
	panic(fmt.Sprintf("pv: %s is not a weighted intervention", r.InterventionType))
}

func rotate(x, w *graph.Node) *graph.Node   { return lin(x, w, false) }
func unrotate(x, w *graph.Node) *graph.Node { return lin(x, w, true) }

// lin multiplies the last axis of x by w ([n,k], or [k,n] transposed when
// transposeW): [..., n] -> [..., k].
func lin(x, w *graph.Node, transposeW bool) *graph.Node {
	dims := x.Shape().Dimensions
	n := dims[len(dims)-1]
	flat := graph.Reshape(x, -1, n)
	var y *graph.Node
	if transposeW {
		y = graph.Einsum("an,kn->ak", flat, w)
	} else {
		y = graph.Einsum("an,nk->ak", flat, w)
	}
	out := append(append([]int{}, dims[:len(dims)-1]...), y.Shape().Dimensions[1])
	return graph.Reshape(y, out...)
}
