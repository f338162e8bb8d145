package transformer

import (
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
)

// Rope scaling types (transformers' rope_scaling "rope_type").
const (
	RopeDefault = "default" // no scaling ("" means the same)
	RopeLinear  = "linear"  // frequencies divided by Factor
	RopeLlama3  = "llama3"  // Llama 3.1's frequency-dependent scaling
)

// RopeTypes lists the rope scaling types Rotary supports.
var RopeTypes = []string{RopeDefault, RopeLinear, RopeLlama3}

// RopeScaling is transformers' rope_scaling: how the rotary frequencies are
// stretched for longer contexts. The zero value means no scaling.
type RopeScaling struct {
	// Type is one of RopeTypes ("" means default). Dynamic NTK scaling is
	// not supported.
	Type string
	// Factor divides the frequencies (linear) or the low frequencies
	// (llama3); must be >= 1 for those types.
	Factor float64
	// LowFreqFactor, HighFreqFactor and OriginalMaxPositions
	// (original_max_position_embeddings) are llama3's: wavelengths longer
	// than OriginalMaxPositions/LowFreqFactor are divided by Factor, those
	// shorter than OriginalMaxPositions/HighFreqFactor are kept, and those
	// between are interpolated.
	LowFreqFactor, HighFreqFactor float64
	OriginalMaxPositions          int
}

// Rotary configures rotary position embeddings in the "rotate_half" layout
// transformers uses (Llama, GPT-NeoX, Mistral, Qwen2, Gemma): the first Dims
// of each head's dimensions are rotated, pairing dimension i with i+Dims/2,
// and the rest pass through (partial rotary, GPT-NeoX's rotary_pct).
type Rotary struct {
	// Theta is the base of the frequencies (rope_theta, e.g. 10000).
	Theta float64
	// Dims is how many dimensions of a head are rotated: even, in
	// [2, head_dim]; head_dim*rotary_pct for GPT-NeoX.
	Dims    int
	Scaling RopeScaling
}

// Validate returns an error naming the bad field, its value and the valid
// range, for heads of headDim dimensions.
func (r Rotary) Validate(headDim int) error {
	var errs []error
	if !(r.Theta > 1) || math.IsInf(r.Theta, 0) {
		errs = append(errs, fmt.Errorf("transformer: rope theta %g; valid: a finite number > 1", r.Theta))
	}
	if r.Dims < 2 || r.Dims%2 != 0 || r.Dims > headDim {
		errs = append(errs, fmt.Errorf("transformer: rotary dims %d; valid: even, in [2, %d] (head_dim)", r.Dims, headDim))
	}
	s := r.Scaling
	switch s.Type {
	case "", RopeDefault:
	case RopeLinear, RopeLlama3:
		if !(s.Factor >= 1) || math.IsInf(s.Factor, 0) {
			errs = append(errs, fmt.Errorf("transformer: rope_scaling factor %g; valid: a finite number >= 1", s.Factor))
		}
		if s.Type == RopeLlama3 {
			if !(s.LowFreqFactor > 0) || !(s.HighFreqFactor > s.LowFreqFactor) || math.IsInf(s.HighFreqFactor, 0) {
				errs = append(errs, fmt.Errorf("transformer: rope_scaling low_freq_factor %g, high_freq_factor %g; valid: 0 < low < high, finite", s.LowFreqFactor, s.HighFreqFactor))
			}
			if s.OriginalMaxPositions < 1 {
				errs = append(errs, fmt.Errorf("transformer: rope_scaling original_max_position_embeddings %d; valid: >= 1", s.OriginalMaxPositions))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("transformer: rope_scaling type %q is not supported; valid: %v", s.Type, RopeTypes))
	}
	return errors.Join(errs...)
}

// InvFreq returns the Dims/2 rotation frequencies (radians per position),
// after scaling: theta^(-2i/Dims), then as Scaling says. Call Validate
// first; for an invalid Rotary the values are meaningless.
func (r Rotary) InvFreq() []float64 {
	half := r.Dims / 2
	f := make([]float64, half)
	for i := range f {
		f[i] = 1 / math.Pow(r.Theta, float64(2*i)/float64(r.Dims))
	}
	s := r.Scaling
	switch s.Type {
	case RopeLinear:
		for i := range f {
			f[i] /= s.Factor
		}
	case RopeLlama3:
		old := float64(s.OriginalMaxPositions)
		lowWavelen, highWavelen := old/s.LowFreqFactor, old/s.HighFreqFactor
		for i, inv := range f {
			wavelen := 2 * math.Pi / inv
			switch {
			case wavelen > lowWavelen: // low frequency: scaled
				f[i] = inv / s.Factor
			case wavelen < highWavelen: // high frequency: kept
			default: // between: interpolated
				smooth := (old/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				f[i] = (1-smooth)*inv/s.Factor + smooth*inv
			}
		}
	}
	return f
}

// RotaryAngles are the cosines and sines of one batch's rotations,
// [b,1,s,Dims] each, computed once per forward pass and shared by every
// layer.
type RotaryAngles struct {
	Cos, Sin *Node
}

// Angles returns the rotations of positions [b,s] (integer position ids):
// angle position*InvFreq()[i] for dimensions i and i+Dims/2, in float32.
func (r Rotary) Angles(positions *Node) RotaryAngles {
	g := positions.Graph()
	inv := r.InvFreq()
	inv32 := make([]float32, len(inv))
	for i, v := range inv {
		inv32[i] = float32(v)
	}
	pos := ConvertDType(positions, dtypes.Float32)
	freqs := Mul(ExpandAxes(pos, -1), ExpandLeftToRank(Const(g, inv32), 3)) // [b,s,Dims/2]
	emb := ExpandAxes(Concatenate([]*Node{freqs, freqs}, -1), 1)            // [b,1,s,Dims]
	return RotaryAngles{Cos: Cos(emb), Sin: Sin(emb)}
}

// Apply rotates the first Dims dimensions of x [b,h,s,head_dim] (queries or
// keys per head): x*cos + rotate_half(x)*sin, where rotate_half(x) is
// (-x[Dims/2:Dims], x[:Dims/2]); the remaining dimensions pass through.
func (a RotaryAngles) Apply(x *Node) *Node {
	dh := x.Shape().Dimensions[3]
	dims := a.Cos.Shape().Dimensions[3]
	rot, pass := x, (*Node)(nil)
	if dims < dh {
		rot = Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRangeFromStart(dims))
		pass = Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRangeToEnd(dims))
	}
	x1 := Slice(rot, AxisRange(), AxisRange(), AxisRange(), AxisRangeFromStart(dims/2))
	x2 := Slice(rot, AxisRange(), AxisRange(), AxisRange(), AxisRangeToEnd(dims/2))
	half := Concatenate([]*Node{Neg(x2), x1}, -1)
	out := Add(Mul(rot, a.Cos), Mul(half, a.Sin))
	if pass == nil {
		return out
	}
	return Concatenate([]*Node{out, pass}, -1)
}
