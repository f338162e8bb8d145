package pv

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

func TestOrthonormal(t *testing.T) {
	m := tiny(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, shape := range [][2]int{{16, 16}, {24, 5}, {64, 64}} {
		n, k := shape[0], shape[1]
		theta := make([]float32, n*k)
		for i := range theta {
			theta[i] = float32(rng.NormFloat64())
		}
		out, err := graph.CallOnce(m.Backend(), func(x *graph.Node) *graph.Node {
			w := orthonormal(x)
			return graph.Einsum("ik,il->kl", w, w)
		}, tensors.FromFlatDataAndDimensions(theta, n, k))
		if err != nil {
			t.Fatal(err)
		}
		gram := tensors.MustCopyFlatData[float32](out)
		worst := 0.0
		for i := range k {
			for j := range k {
				want := 0.0
				if i == j {
					want = 1
				}
				worst = math.Max(worst, math.Abs(float64(gram[i*k+j])-want))
			}
		}
		if worst > 1e-4 {
			t.Errorf("%dx%d: max |WᵀW - I| = %g", n, k, worst)
		}
	}
}

// A full-width swap in any rotated basis is a vanilla swap.
func TestRotatedSwapsEqualVanilla(t *testing.T) {
	m := tiny(t)
	base, src := prompt(1, 2, 3, 4), prompt(7, 8, 9, 10)
	run := func(r RepresentationConfig, opts ...Option) []float32 {
		iv, err := New(m, Config{Representations: []RepresentationConfig{r}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := iv.Forward([]lm.Prompt{base}, append([]Option{Sources(src), At(2, 3)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out.Logits)
	}
	vanilla := run(RepresentationConfig{Layer: 1})
	for _, r := range []RepresentationConfig{
		{Layer: 1, InterventionType: RotatedSpace},
		{Layer: 1, InterventionType: LowRankRotatedSpace, LowRankDimension: 16},
	} {
		if d := maxDiff(run(r), vanilla); d > 1e-4 {
			t.Errorf("%s full swap differs from vanilla by %g", r.InterventionType, d)
		}
	}
	part := run(RepresentationConfig{Layer: 1, InterventionType: LowRankRotatedSpace, LowRankDimension: 4})
	if d := maxDiff(part, vanilla); d < 1e-4 {
		t.Error("a rank-4 swap should differ from a full swap")
	}
	// Subspaces select rotated dimensions: all of them = the full swap.
	if d := maxDiff(run(RepresentationConfig{Layer: 1, InterventionType: LowRankRotatedSpace, LowRankDimension: 4}, Subspaces(0, 1, 2, 3)), part); d > 1e-6 {
		t.Errorf("subspaces 0..3 of rank 4 differ from no subspaces by %g", d)
	}
}
