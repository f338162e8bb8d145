package pv

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/govene/govene"
)

// The rotation-based intervention types, with pyvene's math. W is an
// orthonormal rotation (columns), rb = b·W and rs = s·W the rotated base and
// source.
const (
	RotatedSpace          = govene.RotatedSpace          // ((rb)[S] <- (rs)[S])·Wᵀ, W n×n
	LowRankRotatedSpace   = govene.LowRankRotatedSpace   // b + ((rs-rb)[S])·W[:,S]ᵀ, W n×r
	BoundlessRotatedSpace = govene.BoundlessRotatedSpace // learned soft boundary in rotated space
	PCARotatedSpace       = govene.PCARotatedSpace       // swap in a fixed PCA basis
)

// This file is the one to copy for a trainable intervention with weights.

// rotation is the trainable orthonormal rotate_layer of shape [n, k].
func rotation(n, k int) Weight {
	return Weight{Name: "rotate_layer", PyveneName: "rotate_layer.weight", Shape: []int{n, k},
		Trainable: true, Orthonormal: true, Init: InitOrthonormal}
}

// interchangeRotated interchanges base and source in the basis of the
// rotation w under mask and rotates back.
func interchangeRotated(base, src, mask, w *graph.Node) *graph.Node {
	return unrotate(Interchange(rotate(base, w), rotate(src, w), mask), w)
}

type rotatedSpace struct{}

func (rotatedSpace) Info() Info {
	return Info{Type: RotatedSpace, PyveneName: "RotatedSpaceIntervention", Trainable: true}
}
func (rotatedSpace) Weights(_ RepresentationConfig, w int) []Weight  { return []Weight{rotation(w, w)} }
func (rotatedSpace) SubspaceWidth(_ RepresentationConfig, w int) int { return w }
func (rotatedSpace) Check(RepresentationConfig, int) error           { return nil }
func (rotatedSpace) Apply(a Args) *graph.Node {
	return interchangeRotated(a.Base, a.Source, a.Mask, a.Weights[0])
}

type lowRankRotatedSpace struct{}

func (lowRankRotatedSpace) Info() Info {
	return Info{Type: LowRankRotatedSpace, PyveneName: "LowRankRotatedSpaceIntervention", Trainable: true}
}
func (lowRankRotatedSpace) Weights(r RepresentationConfig, w int) []Weight {
	return []Weight{rotation(w, r.LowRankDimension)}
}
func (lowRankRotatedSpace) SubspaceWidth(r RepresentationConfig, _ int) int {
	return r.LowRankDimension
}
func (lowRankRotatedSpace) Check(r RepresentationConfig, w int) error { return checkLatent(r, w, true) }
func (lowRankRotatedSpace) Apply(a Args) *graph.Node {
	w := a.Weights[0]
	diff := graph.Mul(a.Mask, graph.Sub(rotate(a.Source, w), rotate(a.Base, w)))
	return graph.Add(a.Base, unrotate(diff, w))
}

// boundlessRotatedSpace learns a soft boundary: the first boundary·n
// rotated dimensions, with sigmoid edges sharpened by the temperature.
type boundlessRotatedSpace struct{}

func (boundlessRotatedSpace) Info() Info {
	return Info{Type: BoundlessRotatedSpace, PyveneName: "BoundlessRotatedSpaceIntervention",
		Trainable: true, Temperature: 50, Annealed: true}
}
func (boundlessRotatedSpace) Weights(_ RepresentationConfig, w int) []Weight {
	return []Weight{rotation(w, w), {Name: "intervention_boundaries", Shape: []int{1}, Trainable: true,
		Init: InitConstant(0.5), L1: func(b *graph.Node) *graph.Node { return graph.ReduceAllSum(graph.Abs(b)) }}}
}
func (boundlessRotatedSpace) SubspaceWidth(_ RepresentationConfig, w int) int { return w }
func (boundlessRotatedSpace) Check(RepresentationConfig, int) error           { return nil }
func (boundlessRotatedSpace) Apply(a Args) *graph.Node {
	w, boundary, temp := a.Weights[0], a.Weights[1], a.Temperature
	n := w.Shape().Dimensions[0]
	// clamp(boundary, 1e-3, 1) with Min/Max, which have gradients on every
	// backend (Clamp has none on the pure-Go one).
	b := graph.Max(graph.Min(boundary, graph.OnesLike(boundary)), graph.MulScalar(graph.OnesLike(boundary), 1e-3))
	pop := graph.Iota(a.Base.Graph(), shapes.Make(dtypes.Float32, n), 0)
	hi := graph.MulScalar(b, float64(n))
	mask := graph.Mul(graph.Sigmoid(graph.Div(pop, temp)), graph.Sigmoid(graph.Div(graph.Sub(hi, pop), temp)))
	mask = graph.Mul(graph.ExpandLeftToRank(mask, a.Base.Rank()), a.Mask)
	return interchangeRotated(a.Base, a.Source, mask, w)
}

// pcaRotatedSpace interchanges in a fixed, loaded PCA basis of
// LowRankDimension components, after standardising.
type pcaRotatedSpace struct{}

func (pcaRotatedSpace) Info() Info {
	return Info{Type: PCARotatedSpace, PyveneName: "PCARotatedSpaceIntervention"}
}
func (pcaRotatedSpace) Weights(r RepresentationConfig, w int) []Weight {
	return []Weight{{Name: "pca_components", Shape: []int{r.LowRankDimension, w}},
		{Name: "pca_mean", Shape: []int{w}}, {Name: "pca_std", Shape: []int{w}}}
}
func (pcaRotatedSpace) SubspaceWidth(r RepresentationConfig, _ int) int { return r.LowRankDimension }
func (pcaRotatedSpace) Check(r RepresentationConfig, w int) error       { return checkLatent(r, w, true) }
func (pcaRotatedSpace) Apply(a Args) *graph.Node {
	rank := a.Base.Rank()
	comp, mean, std := a.Weights[0], graph.ExpandLeftToRank(a.Weights[1], rank), graph.ExpandLeftToRank(a.Weights[2], rank)
	norm := func(x *graph.Node) *graph.Node {
		return lin(graph.Div(graph.Sub(x, mean), std), comp, true)
	}
	swapped := Interchange(norm(a.Base), norm(a.Source), a.Mask)
	return graph.Add(graph.Mul(lin(swapped, comp, false), std), mean)
}
