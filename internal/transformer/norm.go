package transformer

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.

	"github.com/govene/govene/lm"
)

// NormKind names a normalization.
type NormKind string

const (
	// LayerNormKind is LayerNorm: (x-mean)/sqrt(var+eps)*weight + bias.
	LayerNormKind NormKind = "layer_norm"
	// RMSNormKind is RMSNorm: x/sqrt(mean(x²)+eps)*weight (or *(1+weight)).
	RMSNormKind NormKind = "rms_norm"
)

// Norm configures a normalization of the last axis.
type Norm struct {
	Kind NormKind
	// Eps is added to the variance (or mean square) before the square root.
	Eps float64
	// OnePlus scales an RMSNorm by (1+weight) instead of weight, as Gemma
	// stores it. LayerNorm ignores it.
	OnePlus bool
}

// Validate returns an error naming a bad kind or epsilon and the valid
// choices.
func (n Norm) Validate() error {
	if n.Kind != LayerNormKind && n.Kind != RMSNormKind {
		return fmt.Errorf("transformer: norm kind %q; valid: %q, %q", n.Kind, LayerNormKind, RMSNormKind)
	}
	if !(n.Eps > 0 && n.Eps < 1) || math.IsNaN(n.Eps) {
		return fmt.Errorf("transformer: norm eps %g is out of range; valid: (0, 1)", n.Eps)
	}
	return nil
}

// NormWeights are a normalization's weight [d] and bias [d] (nil: none;
// RMSNorm has none).
type NormWeights struct {
	Weight, Bias *Node
}

// Apply normalizes x [...,d] as n says and returns the result in x's dtype.
// It panics (while the graph is built) on shape mismatches.
func (n Norm) Apply(x *Node, w NormWeights) *Node {
	if n.Kind == RMSNormKind {
		return RMSNorm(x, w.Weight, n.Eps, n.OnePlus)
	}
	return LayerNorm(x, w, n.Eps)
}

// LayerNorm normalizes the last axis of x with the biased variance, as
// torch does, then scales by w.Weight and adds w.Bias (when not nil). It
// computes in float32 and returns x's dtype. It divides by Sqrt rather than
// using Rsqrt, which has no gradient on the pure-Go backend.
func LayerNorm(x *Node, w NormWeights, eps float64) *Node { return layerNorm(x, w, eps, nil) }

// layerNorm is LayerNorm whose scale sqrt(var+eps) [...,1] passes through
// scale (when not nil), which may replace it.
func layerNorm(x *Node, w NormWeights, eps float64, scale func(*Node) *Node) *Node {
	dt := x.DType()
	x = toF32(x)
	mean := ReduceAndKeep(x, ReduceMean, -1)
	centered := Sub(x, mean)
	variance := ReduceAndKeep(Square(centered), ReduceMean, -1)
	sd := Sqrt(AddScalar(variance, eps))
	if scale != nil {
		sd = scale(sd)
	}
	normed := Div(centered, sd)
	r := x.Rank()
	out := Mul(normed, ExpandLeftToRank(toF32(w.Weight), r))
	if w.Bias != nil {
		out = Add(out, ExpandLeftToRank(toF32(w.Bias), r))
	}
	return ConvertDType(out, dt)
}

// RMSNorm divides x by the root mean square of its last axis (plus eps
// under the root) and scales by weight, or by 1+weight when onePlus
// (Gemma). It computes in float32 and returns x's dtype.
func RMSNorm(x, weight *Node, eps float64, onePlus bool) *Node {
	return rmsNorm(x, weight, eps, onePlus, nil)
}

// rmsNorm is RMSNorm whose scale sqrt(mean(x²)+eps) [...,1] passes through
// scale (when not nil), which may replace it.
func rmsNorm(x, weight *Node, eps float64, onePlus bool, scale func(*Node) *Node) *Node {
	dt := x.DType()
	x = toF32(x)
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	rms := Sqrt(AddScalar(ms, eps))
	if scale != nil {
		rms = scale(rms)
	}
	normed := Div(x, rms)
	g := toF32(weight)
	if onePlus {
		g = OnePlus(g)
	}
	return ConvertDType(Mul(normed, ExpandLeftToRank(g, x.Rank())), dt)
}

// FinalNorm applies n to the last residual stream x with weights w,
// calling at at lm.LNFinalScale with the norm's scale [b,s,1] (which the
// hook may replace: the norm then divides by the returned scale).
func (n Norm) FinalNorm(x *Node, w NormWeights, at At) *Node {
	scale := func(sd *Node) *Node { return at.Call(lm.LNFinalScale, sd) }
	if n.Kind == RMSNormKind {
		return rmsNorm(x, w.Weight, n.Eps, n.OnePlus, scale)
	}
	return layerNorm(x, w, n.Eps, scale)
}

// toF32 converts x to float32 (x itself when it already is).
func toF32(x *Node) *Node { return ConvertDType(x, dtypes.Float32) }
