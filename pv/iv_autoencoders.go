package pv

import (
	"github.com/govene/govene"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// The autoencoder intervention types: encode base and source, interchange
// the selected latents (LowRankDimension of them), decode.
const (
	Autoencoder         = govene.Autoencoder         // swap latents of a ReLU autoencoder
	JumpReLUAutoencoder = govene.JumpReLUAutoencoder // swap latents of a JumpReLU SAE
)

// interchangeLatents encodes base and source, interchanges their latents
// under mask and decodes.
func interchangeLatents(a Args, encode, decode func(*graph.Node) *graph.Node) *graph.Node {
	return decode(Interchange(encode(a.Base), encode(a.Source), a.Mask))
}

func relu(x *graph.Node) *graph.Node { return graph.Max(x, graph.ZerosLike(x)) }

// autoencoder is pyvene's ReLU autoencoder, its layers initialised as
// torch.nn.Linear (uniform ±1/sqrt(fan_in)).
type autoencoder struct{}

func (autoencoder) Info() Info {
	return Info{Type: Autoencoder, PyveneName: "AutoencoderIntervention", Trainable: true}
}
func (autoencoder) Weights(r RepresentationConfig, w int) []Weight {
	k := r.LowRankDimension
	linear := func(name, pyvene string, shape []int, fanIn int) Weight {
		return Weight{Name: name, PyveneName: pyvene, Shape: shape, Trainable: true, Init: InitUniform(1 / math.Sqrt(float64(fanIn)))}
	}
	return []Weight{
		linear("encoder.weight", "autoencoder.encoder.0.weight", []int{k, w}, w),
		linear("encoder.bias", "autoencoder.encoder.0.bias", []int{k}, w),
		linear("decoder.weight", "autoencoder.decoder.0.weight", []int{w, k}, k),
		linear("decoder.bias", "autoencoder.decoder.0.bias", []int{w}, k),
	}
}
func (autoencoder) SubspaceWidth(r RepresentationConfig, _ int) int { return r.LowRankDimension }
func (autoencoder) Check(r RepresentationConfig, w int) error       { return checkLatent(r, w, false) }
func (autoencoder) Apply(a Args) *graph.Node {
	rank := a.Base.Rank()
	encW, encB, decW, decB := a.Weights[0], graph.ExpandLeftToRank(a.Weights[1], rank), a.Weights[2], graph.ExpandLeftToRank(a.Weights[3], rank)
	return interchangeLatents(a,
		func(x *graph.Node) *graph.Node { return relu(graph.Add(lin(graph.Sub(x, decB), encW, true), encB)) },
		func(l *graph.Node) *graph.Node { return graph.Add(lin(l, decW, true), decB) })
}

// jumpReLUAutoencoder is a JumpReLU sparse autoencoder (Gemma Scope's),
// whose weights are loaded (they start at zero).
type jumpReLUAutoencoder struct{}

func (jumpReLUAutoencoder) Info() Info {
	return Info{Type: JumpReLUAutoencoder, PyveneName: "JumpReLUAutoencoderIntervention", Trainable: true}
}
func (jumpReLUAutoencoder) Weights(r RepresentationConfig, w int) []Weight {
	k := r.LowRankDimension
	return []Weight{
		{Name: "W_enc", Shape: []int{w, k}, Trainable: true},
		{Name: "W_dec", Shape: []int{k, w}, Trainable: true},
		{Name: "threshold", Shape: []int{k}, Trainable: true},
		{Name: "b_enc", Shape: []int{k}, Trainable: true},
		{Name: "b_dec", Shape: []int{w}, Trainable: true},
	}
}
func (jumpReLUAutoencoder) SubspaceWidth(r RepresentationConfig, _ int) int {
	return r.LowRankDimension
}
func (jumpReLUAutoencoder) Check(r RepresentationConfig, w int) error {
	return checkLatent(r, w, false)
}
func (jumpReLUAutoencoder) Apply(a Args) *graph.Node {
	rank := a.Base.Rank()
	wEnc, wDec := a.Weights[0], a.Weights[1]
	thr, bEnc, bDec := graph.ExpandLeftToRank(a.Weights[2], rank), graph.ExpandLeftToRank(a.Weights[3], rank), graph.ExpandLeftToRank(a.Weights[4], rank)
	return interchangeLatents(a,
		func(x *graph.Node) *graph.Node {
			pre := graph.Add(lin(x, wEnc, false), bEnc)
			on := graph.ConvertDType(graph.GreaterThan(pre, graph.BroadcastToShape(thr, pre.Shape())), dtypes.Float32)
			return graph.Mul(on, relu(pre))
		},
		func(l *graph.Node) *graph.Node { return graph.Add(lin(l, wDec, false), bDec) })
}
