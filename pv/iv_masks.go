package pv

import (
	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene"
)

// The learned-mask intervention types: a sigmoid of mask weights over a
// temperature selects dimensions, in a learned rotated basis or in the
// neuron basis.
const (
	SigmoidMaskRotatedSpace = govene.SigmoidMaskRotatedSpace // learned sigmoid mask in rotated space
	SigmoidMask             = govene.SigmoidMask             // learned sigmoid mask in the neuron basis
)

// sigmoidMaskOf returns sigmoid(m / temp), broadcast to rank, times the
// subspace mask.
func sigmoidMaskOf(m, temp, subspace *graph.Node) *graph.Node {
	return graph.Mul(graph.ExpandLeftToRank(graph.Sigmoid(graph.Div(m, temp)), subspace.Rank()), subspace)
}

// maskWeight is a trainable mask of width w starting at init, whose L1 size
// is the sum of its sigmoid.
func maskWeight(name string, w int, init float32) Weight {
	return Weight{Name: name, Shape: []int{w}, Trainable: true, Init: InitConstant(init),
		L1: func(m *graph.Node) *graph.Node { return graph.ReduceAllSum(graph.Sigmoid(m)) }}
}

type sigmoidMaskRotatedSpace struct{}

func (sigmoidMaskRotatedSpace) Info() Info {
	return Info{Type: SigmoidMaskRotatedSpace, PyveneName: "SigmoidMaskRotatedSpaceIntervention",
		Trainable: true, Temperature: 50, Annealed: true}
}
func (sigmoidMaskRotatedSpace) Weights(_ RepresentationConfig, w int) []Weight {
	return []Weight{rotation(w, w), maskWeight("masks", w, 100)}
}
func (sigmoidMaskRotatedSpace) SubspaceWidth(_ RepresentationConfig, w int) int { return w }
func (sigmoidMaskRotatedSpace) Check(RepresentationConfig, int) error           { return nil }
func (sigmoidMaskRotatedSpace) Apply(a Args) *graph.Node {
	return interchangeRotated(a.Base, a.Source, sigmoidMaskOf(a.Weights[1], a.Temperature, a.Mask), a.Weights[0])
}

type sigmoidMask struct{}

func (sigmoidMask) Info() Info {
	return Info{Type: SigmoidMask, PyveneName: "SigmoidMaskIntervention",
		Trainable: true, Temperature: 0.01, Annealed: true}
}
func (sigmoidMask) Weights(_ RepresentationConfig, w int) []Weight {
	return []Weight{maskWeight("mask", w, 0)}
}
func (sigmoidMask) SubspaceWidth(_ RepresentationConfig, w int) int { return w }
func (sigmoidMask) Check(RepresentationConfig, int) error           { return nil }
func (sigmoidMask) Apply(a Args) *graph.Node {
	return Interchange(a.Base, a.Source, sigmoidMaskOf(a.Weights[0], a.Temperature, a.Mask))
}
