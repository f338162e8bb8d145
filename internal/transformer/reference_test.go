package transformer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
)

// Straightforward float64 references for the core's graph code, written
// as loops over single values.

const tol = 1e-5

func testBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eval builds fn over args (tensors or Go slices) and returns each output
// as float32 values.
func eval(t *testing.T, fn func(in []*Node) []*Node, args ...any) [][]float32 {
	t.Helper()
	exec, err := NewExec(testBackend(t), fn)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float32, len(outs))
	for i, o := range outs {
		if res[i], err = tensors.CopyFlatData[float32](o); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

func randn(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func t2(data []float32, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// closeTo reports the first index where got and want differ by more than
// tol (absolute, or relative for large values), or -1.
func closeTo(got []float32, want []float64) int {
	if len(got) != len(want) {
		return 0
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*math.Max(1, math.Abs(want[i])) || math.IsNaN(float64(got[i])) {
			return i
		}
	}
	return -1
}

func checkClose(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if i := closeTo(got, want); i >= 0 {
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
		}
		t.Fatalf("%s[%d] = %.7g, want %.7g", what, i, got[i], want[i])
	}
}

// naiveInvFreq follows transformers' documented rope frequency definitions:
// base^(-2i/dim), divided by factor for "linear", and for "llama3" the
// wavelength bands (low frequencies divided by factor, high kept, the
// band between interpolated by the smooth factor).
func naiveInvFreq(r Rotary) []float64 {
	n := r.Dims / 2
	inv := make([]float64, n)
	for i := range n {
		inv[i] = 1 / math.Pow(r.Theta, float64(2*i)/float64(r.Dims))
	}
	s := r.Scaling
	switch s.Type {
	case "linear":
		for i := range inv {
			inv[i] /= s.Factor
		}
	case "llama3":
		orig := float64(s.OriginalMaxPositions)
		lowWavelen := orig / s.LowFreqFactor
		highWavelen := orig / s.HighFreqFactor
		for i, f := range inv {
			wavelen := 2 * math.Pi / f
			scaled := f
			if wavelen > lowWavelen {
				scaled = f / s.Factor
			}
			smooth := (orig/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
			smoothed := (1-smooth)*scaled/s.Factor + smooth*scaled
			if !(wavelen < highWavelen) && !(wavelen > lowWavelen) {
				scaled = smoothed
			}
			inv[i] = scaled
		}
	}
	return inv
}

// naiveRope rotates one head's vector x at position pos: pairs (i,
// i+Dims/2) for i < Dims/2 by angle pos*inv[i]; the rest pass through.
func naiveRope(x []float64, pos int, r Rotary) []float64 {
	inv := naiveInvFreq(r)
	half := r.Dims / 2
	out := append([]float64(nil), x...)
	for i := range half {
		a := float64(pos) * inv[i]
		c, s := math.Cos(a), math.Sin(a)
		x1, x2 := x[i], x[i+half]
		out[i] = x1*c - x2*s
		out[i+half] = x2*c + x1*s
	}
	return out
}

// naiveAttention computes cfg's attention for q [b,s,H*dh], k and v
// [b,s,KV*dh] with position ids pos [b,s] and key mask [b,s], returning
// the merged heads [b,s,H*dh].
func naiveAttention(cfg AttentionConfig, b, s int, q, k, v []float32, pos []int32, mask []float32) []float64 {
	H, KV, dh := cfg.Heads, cfg.KVHeads, cfg.HeadDim
	scale := cfg.Scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(dh))
	}
	vec := func(x []float32, heads, e, i, h int) []float64 {
		out := make([]float64, dh)
		base := (e*s+i)*heads*dh + h*dh
		for d := range dh {
			out[d] = float64(x[base+d])
		}
		return out
	}
	rope := func(x []float64, e, i int) []float64 {
		if cfg.Rotary == nil {
			return x
		}
		return naiveRope(x, int(pos[e*s+i]), *cfg.Rotary)
	}
	out := make([]float64, b*s*H*dh)
	for e := range b {
		for h := range H {
			kvh := h / (H / KV)
			for i := range s {
				qv := rope(vec(q, H, e, i, h), e, i)
				scores := make([]float64, s)
				ok := make([]bool, s)
				seen := false
				for j := range s {
					kv := rope(vec(k, KV, e, j, kvh), e, j)
					dot := 0.0
					for d := range dh {
						dot += qv[d] * kv[d]
					}
					sc := dot * scale
					if cfg.SoftCap > 0 {
						sc = math.Tanh(sc/cfg.SoftCap) * cfg.SoftCap
					}
					scores[j] = sc
					ok[j] = j <= i && mask[e*s+j] > 0 && (cfg.Window == 0 || j > i-cfg.Window)
					seen = seen || ok[j]
				}
				if !seen { // every key masked: the softmax of equal scores
					for j := range ok {
						ok[j], scores[j] = true, 0
					}
				}
				mx := math.Inf(-1)
				for j := range s {
					if ok[j] {
						mx = math.Max(mx, scores[j])
					}
				}
				w := make([]float64, s)
				sum := 0.0
				for j := range s {
					if ok[j] {
						w[j] = math.Exp(scores[j] - mx)
						sum += w[j]
					}
				}
				for j := range s {
					if !ok[j] {
						continue
					}
					vv := vec(v, KV, e, j, kvh)
					for d := range dh {
						out[(e*s+i)*H*dh+h*dh+d] += w[j] / sum * vv[d]
					}
				}
			}
		}
	}
	return out
}

// naiveAct is activation a on one value.
func naiveAct(a Activation, x float64) float64 {
	switch a {
	case Gelu:
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case Relu:
		return math.Max(x, 0)
	case Silu:
		return x / (1 + math.Exp(-x))
	}
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

// naiveLinear is x [n,in] times w (layout as given) plus bias (nil: none),
// giving [n,out].
func naiveLinear(x []float64, n, in, out int, w, bias []float32, layout Layout) []float64 {
	y := make([]float64, n*out)
	for r := range n {
		for o := range out {
			sum := 0.0
			if bias != nil {
				sum = float64(bias[o])
			}
			for i := range in {
				wi := w[i*out+o]
				if layout == OutIn {
					wi = w[o*in+i]
				}
				sum += x[r*in+i] * float64(wi)
			}
			y[r*out+o] = sum
		}
	}
	return y
}

func f64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func tensorI32(data []int32, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(data, dims...)
}
