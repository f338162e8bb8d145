package mlp

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/train"
)

// Equality is pyvene's hierarchical equality task: four entities w, x, y,
// z; the label is 1 when (w == x) == (y == z). Entities are tokens whose
// embeddings are fixed random vectors; a sampler draws them from the id
// range [Lo, Hi), so training and test can use disjoint entities, as
// pyvene's tutorial does.
type Equality struct {
	Lo, Hi int
	rng    *rand.Rand
}

// NewEquality returns a task sampler over entity ids [lo, hi).
func NewEquality(lo, hi int, seed uint64) *Equality {
	return &Equality{Lo: lo, Hi: hi, rng: rand.New(rand.NewPCG(seed, 0xe9))}
}

// distinct draws n different entities.
func (q *Equality) distinct(n int) []int {
	out := make([]int, 0, n)
	for len(out) < n {
		e := q.Lo + q.rng.IntN(q.Hi-q.Lo)
		dup := false
		for _, o := range out {
			dup = dup || o == e
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}

// Sample draws an input with pyvene's tutorial sampler: ABCD, AABB, AACD
// and ABCC, each with probability 1/4.
func (q *Equality) Sample() ([]int, int) {
	e := q.distinct(4)
	a, b, c, d := e[0], e[1], e[2], e[3]
	var in []int
	switch q.rng.IntN(4) {
	case 0:
		in = []int{a, b, c, d}
	case 1:
		in = []int{a, a, b, b}
	case 2:
		in = []int{a, a, c, d}
	default:
		in = []int{a, b, c, c}
	}
	return in, Label(in)
}

// Label returns the task's label for an input.
func Label(in []int) int {
	if (in[0] == in[1]) == (in[2] == in[3]) {
		return 1
	}
	return 0
}

// Counterfactual draws a base and two sources and the label the high-level
// model gives under an interchange of variable WX (which 0: from source 1),
// YZ (which 1: from source 2) or both (which 2).
func (q *Equality) Counterfactual(which int) (base, src1, src2 []int, label int) {
	base, _ = q.Sample()
	src1, _ = q.Sample()
	src2, _ = q.Sample()
	wx, yz := base[0] == base[1], base[2] == base[3]
	if which == 0 || which == 2 {
		wx = src1[0] == src1[1]
	}
	if which == 1 || which == 2 {
		yz = src2[2] == src2[3]
	}
	if wx == yz {
		label = 1
	}
	return base, src1, src2, label
}

// TrainTask trains m's layers (not its entity embeddings) on the task with
// Adam and returns the accuracy on n fresh samples. It returns an error if
// the model's config does not fit the task (4 inputs, 2 classes).
func TrainTask(m *Model, q *Equality, steps, batch int, opt train.Adam) (float64, error) {
	c := m.cfg
	if c.Inputs != 4 || c.Classes != 2 || c.Vocab < q.Hi {
		return 0, fmt.Errorf("mlp: equality needs inputs 4, classes 2, vocab >= %d; got %+v", q.Hi, c)
	}
	if steps <= 0 || batch <= 0 {
		return 0, errors.New("mlp: steps and batch must be positive")
	}
	loss := func(p, in []*graph.Node) (*graph.Node, []*graph.Node) {
		all := append([]*graph.Node{in[0]}, p...)
		logits := m.BuildForward(all, lm.Inputs{IDs: in[1]}, nil)
		dims := logits.Shape().Dimensions
		last := graph.Reshape(graph.Slice(logits, graph.AxisRange(), graph.AxisElem(dims[1]-1), graph.AxisRange()), dims[0], dims[2])
		onehot := graph.OneHot(in[2], dims[2], dtypes.Float32)
		return graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(onehot, graph.LogSoftmax(last, -1)), -1))), nil
	}
	tr, err := train.New(m.backend, m.params[1:], loss, opt, nil)
	if err != nil {
		return 0, err
	}
	for range steps {
		ids, labels := make([]int32, 0, 4*batch), make([]int32, batch)
		for e := range batch {
			in, l := q.Sample()
			for _, t := range in {
				ids = append(ids, int32(t))
			}
			labels[e] = int32(l)
		}
		if _, _, err := tr.Step(m.params[0], tensors.FromFlatDataAndDimensions(ids, batch, 4), tensors.FromFlatDataAndDimensions(labels, batch)); err != nil {
			return 0, err
		}
	}
	if err := m.SetParams(append([]*tensors.Tensor{m.params[0]}, tr.Params()...)); err != nil {
		return 0, err
	}
	return Accuracy(m, q, 2000)
}

// Accuracy returns the share of n fresh samples m labels correctly.
func Accuracy(m *Model, q *Equality, n int) (float64, error) {
	var prompts []lm.Prompt
	var labels []int
	for range n {
		in, l := q.Sample()
		prompts = append(prompts, lm.Prompt{IDs: in})
		labels = append(labels, l)
	}
	r, err := lm.NewRunner(m, 0).Run(prompts)
	if err != nil {
		return 0, err
	}
	correct := 0
	for e, l := range labels {
		logits, err := r.NextTokenLogits(e)
		if err != nil {
			return 0, err
		}
		pred := 0
		if logits[1] > logits[0] {
			pred = 1
		}
		if pred == l {
			correct++
		}
	}
	return float64(correct) / float64(n), nil
}
