package pv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// weightSpec is one weight of a representation's intervention, as its kind
// declared it (a validated, private copy).
type weightSpec struct {
	name      string
	pyvene    string // pyvene's name when it differs, else ""
	shape     []int
	trainable bool
	orth      bool // an orthonormal parametrization: the stored value is θ, used as orth(θ)
	init      Init
	l1        func(*graph.Node) *graph.Node
}

// weightSpecs lists the weights of representation r whose unit is w wide,
// as its kind declares them; nil for kinds without weights or not
// registered.
func weightSpecs(r RepresentationConfig, w int) []weightSpec {
	k, ok := kindOf(r)
	if !ok {
		return nil
	}
	var specs []weightSpec
	for _, x := range k.Weights(r, w) {
		specs = append(specs, weightSpec{name: x.Name, pyvene: x.PyveneName, shape: slices.Clone(x.Shape),
			trainable: x.Trainable, orth: x.Orthonormal, init: x.Init, l1: x.L1})
	}
	return specs
}

// initialWeights draws each weight's initial values with its Init (zeros,
// or a random orthonormal matrix, when nil), from one generator seeded by
// seed. A kind's Init of the wrong size or with NaN or infinite values is
// an error naming the weight.
func initialWeights(specs []weightSpec, seed uint64) ([]*tensors.Tensor, error) {
	rng := rand.New(rand.NewPCG(seed, 0xda5))
	var out []*tensors.Tensor
	for _, s := range specs {
		init := s.init
		switch {
		case init == nil && s.orth:
			init = InitOrthonormal
		case init == nil:
			init = func(shape []int, _ *rand.Rand) []float32 { return make([]float32, numValues(shape)) }
		}
		var v []float32
		if err := protect("Init of weight "+s.name, func() error { v = init(slices.Clone(s.shape), rng); return nil }); err != nil {
			return nil, err
		}
		if len(v) != numValues(s.shape) {
			return nil, fmt.Errorf("Init of weight %s gave %d values, want shape %v (%d)", s.name, len(v), s.shape, numValues(s.shape))
		}
		if err := checkFinite("Init of weight "+s.name, v); err != nil {
			return nil, err
		}
		out = append(out, tensors.FromFlatDataAndDimensions(v, s.shape...))
	}
	return out, nil
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
