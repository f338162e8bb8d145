package backend

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
)

// xlaCPUProbe is a small computation touching the ops a transformer forward
// uses: matmul, broadcasting add, softmax (exp, max, sum, divide), tanh-GELU
// and a reduction.
func xlaCPUProbe(g *Graph) *Node {
	x := MulScalar(Sin(IotaFull(g, shapes.Make(dtypes.Float32, 7, 33))), 0.5)
	w := MulScalar(Cos(IotaFull(g, shapes.Make(dtypes.Float32, 33, 19))), 0.25)
	b := MulScalar(Iota(g, shapes.Make(dtypes.Float32, 19), 0), 0.01)
	h := Add(MatMul(x, w), InsertAxes(b, 0))
	h = Softmax(h, -1)
	h = Tanh(MulScalar(h, 3))
	return Concatenate([]*Node{h, ReduceAndKeep(h, ReduceSum, -1)}, -1)
}

// TestXLACPUPluginAgreesWithGo loads the installed XLA PJRT CPU plugin (see
// scripts/pjrt-cpu/install.sh) through New("xla:"+path) and checks it computes
// what the pure-Go backend computes, including a gradient.
func TestXLACPUPluginAgreesWithGo(t *testing.T) {
	path := InstalledPlugin()
	if path == "" {
		t.Skipf("no XLA PJRT CPU plugin installed (looked in %v); run scripts/pjrt-cpu/install.sh or set %s", PluginPaths(), PluginEnvVar)
	}
	xb, err := New("xla:" + path)
	if err != nil {
		t.Fatalf("XLA PJRT plugin at %s does not load: %v", path, err)
	}
	defer xb.Finalize()
	t.Logf("XLA backend: %s (%s)", xb.Name(), xb.Description())
	gb, err := New(GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer gb.Finalize()

	gradProbe := func(g *Graph) *Node {
		x := MulScalar(Sin(IotaFull(g, shapes.Make(dtypes.Float32, 5, 8))), 0.5)
		w := MulScalar(Cos(IotaFull(g, shapes.Make(dtypes.Float32, 8, 3))), 0.25)
		loss := ReduceAllSum(Square(Tanh(MatMul(x, w))))
		return Gradient(loss, w)[0]
	}
	for _, tc := range []struct {
		name string
		fn   func(*Graph) *Node
	}{{"forward", xlaCPUProbe}, {"gradient", gradProbe}} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := ExecOnce(gb, tc.fn)
			if err != nil {
				t.Fatalf("go backend: %v", err)
			}
			got, err := ExecOnce(xb, tc.fn)
			if err != nil {
				t.Fatalf("xla backend (%s): %v", path, err)
			}
			if !got.Shape().Equal(want.Shape()) {
				t.Fatalf("shape: xla %s, go %s", got.Shape(), want.Shape())
			}
			wv, gv := xlaTestFlat(want.Value()), xlaTestFlat(got.Value())
			worst := 0.0
			for i := range wv {
				worst = math.Max(worst, math.Abs(float64(gv[i]-wv[i])))
			}
			if worst > 1e-5 {
				t.Errorf("xla (%s) and go backends differ by up to %g (> 1e-5)", path, worst)
			}
			t.Logf("xla %s vs go: max |diff| = %g over %d values", path, worst, len(wv))
		})
	}
}

func xlaTestFlat(v any) []float32 {
	var out []float32
	for _, row := range v.([][]float32) {
		out = append(out, row...)
	}
	return out
}
