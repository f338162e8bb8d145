package transformer

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.

	"github.com/govene/govene/lm"
)

func TestInvFreq(t *testing.T) {
	llama31 := RopeScaling{Type: RopeLlama3, Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}
	cases := []struct {
		name string
		r    Rotary
	}{
		{"default", Rotary{Theta: 10000, Dims: 64}},
		{"partial", Rotary{Theta: 10000, Dims: 16}},
		{"linear", Rotary{Theta: 10000, Dims: 32, Scaling: RopeScaling{Type: RopeLinear, Factor: 4}}},
		{"llama3.1", Rotary{Theta: 500000, Dims: 128, Scaling: llama31}},
	}
	for _, tc := range cases {
		if err := tc.r.Validate(tc.r.Dims); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, want := tc.r.InvFreq(), naiveInvFreq(tc.r)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12*want[i] {
				t.Errorf("%s: inv_freq[%d] = %g, want %g", tc.name, i, got[i], want[i])
			}
		}
	}
	// Llama 3.1's bands, by hand: the highest frequency (wavelength 2π)
	// is kept, the lowest (wavelength ~2.6e6 > 8192) divided by 8, and
	// some frequency lies strictly between (interpolated).
	r := Rotary{Theta: 500000, Dims: 128, Scaling: llama31}
	f, plain := r.InvFreq(), Rotary{Theta: 500000, Dims: 128}.InvFreq()
	if f[0] != 1 || math.Abs(f[63]-plain[63]/8) > 1e-18 {
		t.Errorf("llama3: inv_freq[0] = %g (want 1), inv_freq[63] = %g (want %g)", f[0], f[63], plain[63]/8)
	}
	between := 0
	for i := range f {
		if f[i] < plain[i]*(1-1e-9) && f[i] > plain[i]/8*(1+1e-9) {
			between++
		}
	}
	if between == 0 {
		t.Error("llama3: no frequency is interpolated between the bands")
	}
}

func TestNormsMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n, d = 6, 10
	x, w, bias := randn(rng, n*d), randn(rng, d), randn(rng, d)
	for i := range x {
		x[i] = x[i]*3 + 1 // an offset the LayerNorm must remove
	}
	naive := func(norm Norm, withBias bool) []float64 {
		out := make([]float64, n*d)
		for r := range n {
			row := f64(x[r*d : (r+1)*d])
			mean, sq := 0.0, 0.0
			for _, v := range row {
				mean += v / d
			}
			if norm.Kind == RMSNormKind {
				mean = 0
			}
			for _, v := range row {
				sq += (v - mean) * (v - mean) / d
			}
			for j, v := range row {
				g := float64(w[j])
				if norm.Kind == RMSNormKind && norm.OnePlus {
					g++
				}
				out[r*d+j] = (v - mean) / math.Sqrt(sq+norm.Eps) * g
				if withBias {
					out[r*d+j] += float64(bias[j])
				}
			}
		}
		return out
	}
	cases := []struct {
		name     string
		norm     Norm
		withBias bool
	}{
		{"layer norm", Norm{Kind: LayerNormKind, Eps: 1e-5}, true},
		{"layer norm without bias", Norm{Kind: LayerNormKind, Eps: 1e-5}, false},
		{"rms norm", Norm{Kind: RMSNormKind, Eps: 1e-6}, false},
		{"rms norm (1+w)", Norm{Kind: RMSNormKind, Eps: 1e-6, OnePlus: true}, false},
		{"rms norm, large eps", Norm{Kind: RMSNormKind, Eps: 0.5}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.norm.Validate(); err != nil {
				t.Fatal(err)
			}
			got := eval(t, func(in []*Node) []*Node {
				nw := NormWeights{Weight: in[1]}
				if tc.withBias {
					nw.Bias = in[2]
				}
				// In float16 the result comes back as float16, computed
				// in float32.
				half := tc.norm.Apply(ConvertDType(in[0], dtypes.Float16), nw)
				if half.DType() != dtypes.Float16 {
					t.Errorf("float16 input gave %s", half.DType())
				}
				return []*Node{tc.norm.Apply(Reshape(in[0], 2, 3, d), nw)}
			}, t2(x, n, d), t2(w, d), t2(bias, d))
			checkClose(t, tc.name, got[0], naive(tc.norm, tc.withBias))
		})
	}
}

func TestMLPMatchesNaive(t *testing.T) {
	const b, s, d, inner = 2, 3, 5, 7
	cases := []struct {
		name   string
		act    string
		gated  bool
		biases bool
		layout Layout
	}{
		{"gelu_new with biases", "gelu_new", false, true, InOut},
		{"exact gelu", "gelu", false, true, OutIn},
		{"relu", "relu", false, false, InOut},
		{"silu", "silu", false, true, OutIn},
		{"SwiGLU", "silu", true, false, OutIn},
		{"GeGLU", "gelu_pytorch_tanh", true, false, OutIn},
		{"gated with biases", "swish", true, true, InOut},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			act, err := ParseActivation(tc.act)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			x := randn(rng, b*s*d)
			up, gate, down := randn(rng, d*inner), randn(rng, d*inner), randn(rng, inner*d)
			upB, gateB, downB := randn(rng, inner), randn(rng, inner), randn(rng, d)
			upDims, downDims := []int{d, inner}, []int{inner, d}
			if tc.layout == OutIn {
				upDims, downDims = []int{inner, d}, []int{d, inner}
			}
			// The MLP hooks mlp_activation (act's output) and then mlp_post
			// (the down projection's input); both are returned to check
			// their values.
			var hooked []lm.Component
			got := eval(t, func(in []*Node) []*Node {
				lw := func(w, bias *Node) LinearWeights {
					if !tc.biases {
						bias = nil
					}
					return LinearWeights{W: w, Bias: bias, Layout: tc.layout}
				}
				mw := MLPWeights{Up: lw(in[1], in[4]), Down: lw(in[3], in[6])}
				if tc.gated {
					mw.Gate = lw(in[2], in[5])
				}
				seen := map[lm.Component]*Node{}
				at := func(c lm.Component, x *Node) *Node {
					hooked = append(hooked, c)
					if dims := x.Shape().Dimensions; len(dims) != 3 || dims[2] != inner {
						t.Errorf("%s shape %v, want [%d %d %d]", c, dims, b, s, inner)
					}
					seen[c] = x
					return x
				}
				out := MLP(in[0], act, mw, at)
				if seen[lm.MLPActivation] == nil || seen[lm.MLPPost] == nil {
					t.Fatalf("MLP hooked %v, want mlp_activation and mlp_post", hooked)
				}
				return []*Node{out, seen[lm.MLPActivation], seen[lm.MLPPost]}
			}, t2(x, b, s, d), t2(up, upDims...), t2(gate, upDims...), t2(down, downDims...), t2(upB, inner), t2(gateB, inner), t2(downB, d))
			if len(hooked) != 2 || hooked[0] != lm.MLPActivation || hooked[1] != lm.MLPPost {
				t.Errorf("MLP hooked %v, want [mlp_activation mlp_post]", hooked)
			}
			bias := func(v []float32) []float32 {
				if tc.biases {
					return v
				}
				return nil
			}
			h := naiveLinear(f64(x), b*s, d, inner, up, bias(upB), tc.layout)
			var g []float64
			if tc.gated {
				g = naiveLinear(f64(x), b*s, d, inner, gate, bias(gateB), tc.layout)
			}
			a := make([]float64, len(h)) // act(gate(x)) gated, act(up(x)) plain
			for j := range h {
				if tc.gated {
					a[j] = naiveAct(act, g[j])
					h[j] = a[j] * h[j]
				} else {
					h[j] = naiveAct(act, h[j])
					a[j] = h[j]
				}
			}
			checkClose(t, tc.name+" mlp_activation", got[1], a)
			checkClose(t, tc.name+" mlp_post", got[2], h)
			checkClose(t, tc.name, got[0], naiveLinear(h, b*s, inner, d, down, bias(downB), tc.layout))
		})
	}
}

func TestParseActivationAndNormValidate(t *testing.T) {
	if _, err := ParseActivation("tanh"); err == nil || !strings.Contains(err.Error(), "gelu_new") {
		t.Errorf("ParseActivation(tanh) = %v; want an error listing the valid names", err)
	}
	for _, n := range []Norm{{Kind: "batch_norm", Eps: 1e-5}, {Kind: RMSNormKind, Eps: 0}, {Kind: LayerNormKind, Eps: math.NaN()}} {
		if err := n.Validate(); err == nil {
			t.Errorf("Norm %+v: no error", n)
		}
	}
}

func TestSoftCap(t *testing.T) {
	x := []float32{-100, -3, -0.01, 0, 0.5, 4, 1e4}
	got := eval(t, func(in []*Node) []*Node { return []*Node{SoftCap(in[0], 5)} }, t2(x, len(x)))
	want := make([]float64, len(x))
	for i, v := range x {
		want[i] = math.Tanh(float64(v)/5) * 5
	}
	checkClose(t, "soft cap", got[0], want)
}
