package train

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
)

// One Adam step matches the textbook update computed by hand.
func TestAdamStepByHand(t *testing.T) {
	b, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	w0 := []float32{1, -2, 3}
	// loss = sum(w * x)^2 / 2 with x = (1, 2, 3): grad = (w·x) x.
	x := []float32{1, 2, 3}
	tr, err := New(b, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(w0, 3)}, func(p, batch []*graph.Node) (*graph.Node, []*graph.Node) {
		dot := graph.ReduceAllSum(graph.Mul(p[0], batch[0]))
		return graph.MulScalar(graph.Square(dot), 0.5), nil
	}, Adam{LR: 0.1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	loss, _, err := tr.Step(tensors.FromFlatDataAndDimensions(x, 3))
	if err != nil {
		t.Fatal(err)
	}
	dot := 1*1 - 2*2 + 3*3.0
	if math.Abs(loss-dot*dot/2) > 1e-4 {
		t.Errorf("loss %g, want %g", loss, dot*dot/2)
	}
	got := tensors.MustCopyFlatData[float32](tr.Params()[0])
	for i := range w0 {
		g := dot * float64(x[i])
		m, v := 0.1*g, 0.001*g*g
		mh, vh := m/0.1, v/0.001
		want := float64(w0[i]) - 0.1*mh/(math.Sqrt(vh)+1e-8)
		if math.Abs(float64(got[i])-want) > 1e-5 {
			t.Errorf("w[%d] = %g, want %g", i, got[i], want)
		}
	}
}

// Training a small linear model drives the loss down, with warm-up and decay.
func TestTrainerConverges(t *testing.T) {
	b, _ := backend.New(backend.GoConfig)
	xs := []float32{1, 0, 0, 1, 1, 1, 2, -1}
	ys := []float32{2, -1, 1, 5}
	tr, err := New(b, []*tensors.Tensor{tensors.FromShape(tensors.FromFlatDataAndDimensions([]float32{0, 0}, 2).Shape())},
		func(p, batch []*graph.Node) (*graph.Node, []*graph.Node) {
			pred := graph.Einsum("nk,k->n", batch[0], p[0])
			return graph.ReduceAllMean(graph.Square(graph.Sub(pred, batch[1]))), nil
		}, Adam{LR: 0.1, WarmupSteps: 10, TotalSteps: 400}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var first, last float64
	for i := range 400 {
		l, _, err := tr.Step(tensors.FromFlatDataAndDimensions(xs, 4, 2), tensors.FromFlatDataAndDimensions(ys, 4))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = l
		}
		last = l
	}
	if !(last < first/100) {
		t.Errorf("loss %g -> %g, want a 100x drop", first, last)
	}
	if _, err := New(b, nil, nil, Adam{}, nil); err == nil {
		t.Error("no params should be an error")
	}
	if err := (Adam{Beta1: 1}).Validate(); err == nil {
		t.Error("beta1 = 1 should be invalid")
	}
}
