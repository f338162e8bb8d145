package pv

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// The gradient Train follows agrees with finite differences of the loss.
func TestDASGradientMatchesFiniteDifferences(t *testing.T) {
	m := tiny(t)
	link := 0
	iv, err := New(m, Config{Representations: []RepresentationConfig{
		{Layer: 1, InterventionType: RotatedSpace, InterventionLinkKey: &link, SubspacePartition: [][]int{{0, 8}, {8, 16}}},
		{Layer: 1, InterventionType: RotatedSpace, InterventionLinkKey: &link, SubspacePartition: [][]int{{0, 8}, {8, 16}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	data := dasTask(t, 6, 7)
	for i := range data {
		data[i].Sources = []lm.Prompt{data[i].Sources[0], data[(i+1)%len(data)].Base}
		data[i].Subspaces = [][]int{{0}, {1}}
	}
	args, plans, err := iv.trainArgs(data, true)
	if err != nil {
		t.Fatal(err)
	}
	nModel := len(m.Params())
	lossOf := func(theta *graph.Node, batch []*graph.Node) *graph.Node {
		k := nModel
		in := lm.Inputs{IDs: batch[k], Mask: batch[k+1], Positions: batch[k+2]}
		extra := batch[k+3 : len(batch)-1]
		labels := batch[len(batch)-1]
		runtime := extra[:len(extra)-2]
		hook, _ := iv.hook(plans, append(append(append([]*graph.Node{}, runtime...), theta), extra[len(extra)-2:]...))
		logits := m.BuildForward(batch[:nModel], in, hook)
		dims := logits.Shape().Dimensions
		last := graph.Reshape(graph.Slice(logits, graph.AxisRange(), graph.AxisElem(dims[1]-1), graph.AxisRange()), dims[0], dims[2])
		onehot := graph.OneHot(labels, dims[2], dtypes.Float32)
		return graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(onehot, graph.LogSoftmax(last, -1)), -1)))
	}
	theta0 := tensors.MustCopyFlatData[float32](iv.weights[0][0])
	run := func(theta []float32, grad bool) (float64, []float32) {
		exec, err := graph.NewExec(m.Backend(), func(in []*graph.Node) []*graph.Node {
			l := lossOf(in[0], in[1:])
			if !grad {
				return []*graph.Node{l}
			}
			return []*graph.Node{l, graph.Gradient(l, in[0])[0]}
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Call(append([]any{tensors.FromFlatDataAndDimensions(theta, 16, 16)}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		l := float64(tensors.MustCopyFlatData[float32](outs[0])[0])
		if !grad {
			return l, nil
		}
		return l, tensors.MustCopyFlatData[float32](outs[1])
	}
	_, g := run(theta0, true)
	for _, idx := range []int{0, 17, 100, 255} {
		eps := float32(1e-2)
		p, q := append([]float32{}, theta0...), append([]float32{}, theta0...)
		p[idx] += eps
		q[idx] -= eps
		lp, _ := run(p, false)
		lq, _ := run(q, false)
		fd := (lp - lq) / (2 * float64(eps))
		if math.Abs(fd-float64(g[idx])) > 0.05*math.Max(math.Abs(fd), 1e-3)+1e-3 {
			t.Errorf("dθ[%d]: analytic %g, finite difference %g", idx, g[idx], fd)
		} else {
			t.Logf("dθ[%d]: analytic %g, finite difference %g", idx, g[idx], fd)
		}
	}
}
