// Package train is govene's small gradient-training core: Adam with linear
// warm-up and decay, built into the same compiled graph as the loss, so one
// executable computes the loss, the gradients and the update. The DAS
// trainer (package pv) and the shipped model's training use it.
package train

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene"
)

// Adam configures the optimizer: govene.Adam (learning rate, betas, eps,
// weight decay, warm-up and decay steps, gradient clipping) with train's
// methods. Zero fields take the defaults in govene.Adam's brackets.
type Adam govene.Adam

func (a Adam) withDefaults() Adam {
	if a.LR == 0 {
		a.LR = 1e-3
	}
	if a.Beta1 == 0 {
		a.Beta1 = 0.9
	}
	if a.Beta2 == 0 {
		a.Beta2 = 0.999
	}
	if a.Eps == 0 {
		a.Eps = 1e-8
	}
	return a
}

// Validate returns an error naming a bad field, its value and the valid
// range: every float must be finite; lr, eps, weight_decay and clip_norm
// must not be negative (0 takes the default), beta1 and beta2 must be in
// [0, 1), and the step counts must not be negative.
func (a Adam) Validate() error {
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) || x < 0 }
	switch {
	case bad(a.LR):
		return fmt.Errorf("train: adam: lr %g must be a finite number >= 0 (0: the default, 1e-3)", a.LR)
	case bad(a.Beta1) || a.Beta1 >= 1:
		return fmt.Errorf("train: adam: beta1 %g must be in [0, 1)", a.Beta1)
	case bad(a.Beta2) || a.Beta2 >= 1:
		return fmt.Errorf("train: adam: beta2 %g must be in [0, 1)", a.Beta2)
	case bad(a.Eps):
		return fmt.Errorf("train: adam: eps %g must be a finite number >= 0 (0: the default, 1e-8)", a.Eps)
	case bad(a.WeightDecay):
		return fmt.Errorf("train: adam: weight_decay %g must be a finite number >= 0", a.WeightDecay)
	case bad(a.ClipNorm):
		return fmt.Errorf("train: adam: clip_norm %g must be a finite number >= 0 (0: no clipping)", a.ClipNorm)
	case a.WarmupSteps < 0:
		return fmt.Errorf("train: adam: warmup_steps %d must not be negative", a.WarmupSteps)
	case a.TotalSteps < 0:
		return fmt.Errorf("train: adam: total_steps %d must not be negative", a.TotalSteps)
	}
	return nil
}

// Rate returns the learning rate at step (counting from 1).
func (a Adam) Rate(step int) float64 {
	a = a.withDefaults()
	switch {
	case a.WarmupSteps > 0 && step <= a.WarmupSteps:
		return a.LR * float64(step) / float64(a.WarmupSteps)
	case a.TotalSteps > 0:
		return a.LR * math.Max(0, float64(a.TotalSteps-step)/float64(max(1, a.TotalSteps-a.WarmupSteps)))
	}
	return a.LR
}

// LossFn builds a scalar loss from the trained parameters and the batch's
// inputs. It may return extra outputs (metrics) after the loss.
type LossFn func(params, batch []*graph.Node) (loss *graph.Node, extra []*graph.Node)

// Trainer holds parameters and optimizer state as tensors and runs training
// steps with one compiled graph per batch shape. Post, when set, maps the
// parameters after each update inside the graph (for example to keep a
// parametrization well conditioned); it must not change what they mean.
type Trainer struct {
	backend compute.Backend
	loss    LossFn
	opt     Adam
	post    func(params []*graph.Node) []*graph.Node

	mu       sync.Mutex
	params   []*tensors.Tensor
	m, v     []*tensors.Tensor
	step     int
	exec     *graph.Exec
	evalExec *graph.Exec
}

// New returns a Trainer of params (copied: the caller's tensors are not
// changed) on backend b. post may be nil.
func New(b compute.Backend, params []*tensors.Tensor, loss LossFn, opt Adam, post func([]*graph.Node) []*graph.Node) (*Trainer, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if len(params) == 0 {
		return nil, errors.New("train: no parameters to train")
	}
	t := &Trainer{backend: b, loss: loss, opt: opt.withDefaults(), post: post}
	for _, p := range params {
		v, err := tensors.CopyFlatData[float32](p)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		dims := p.Shape().Dimensions
		t.params = append(t.params, tensors.FromFlatDataAndDimensions(v, dims...))
		t.m = append(t.m, tensors.FromShape(p.Shape()))
		t.v = append(t.v, tensors.FromShape(p.Shape()))
	}
	return t, nil
}

// Params returns the current parameters (shared; do not modify).
func (t *Trainer) Params() []*tensors.Tensor {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.params
}

// Steps returns how many updates were made.
func (t *Trainer) Steps() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.step
}

// Step runs one update on a batch and returns the loss (before the update)
// and the extra outputs of the loss function.
func (t *Trainer) Step(batch ...any) (float64, []*tensors.Tensor, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.exec == nil {
		n := len(t.params)
		opt := t.opt
		e, err := graph.NewExec(t.backend, func(in []*graph.Node) []*graph.Node {
			params, m, v := in[:n], in[n:2*n], in[2*n:3*n]
			lr, bc1, bc2 := in[3*n], in[3*n+1], in[3*n+2]
			loss, extra := t.loss(params, in[3*n+3:])
			grads := graph.Gradient(loss, params...)
			if opt.ClipNorm > 0 {
				total := graph.ScalarZero(loss.Graph(), dtypes.Float32)
				for _, g := range grads {
					total = graph.Add(total, graph.ReduceAllSum(graph.Square(g)))
				}
				scale := graph.Min(graph.ScalarOne(loss.Graph(), dtypes.Float32),
					graph.Div(graph.Scalar(loss.Graph(), dtypes.Float32, opt.ClipNorm), graph.AddScalar(graph.Sqrt(total), 1e-12)))
				for i := range grads {
					grads[i] = graph.Mul(grads[i], scale)
				}
			}
			newP := make([]*graph.Node, n)
			newM := make([]*graph.Node, n)
			newV := make([]*graph.Node, n)
			for i, g := range grads {
				newM[i] = graph.Add(graph.MulScalar(m[i], opt.Beta1), graph.MulScalar(g, 1-opt.Beta1))
				newV[i] = graph.Add(graph.MulScalar(v[i], opt.Beta2), graph.MulScalar(graph.Square(g), 1-opt.Beta2))
				mHat := graph.Div(newM[i], bc1)
				vHat := graph.Div(newV[i], bc2)
				upd := graph.Div(mHat, graph.AddScalar(graph.Sqrt(vHat), opt.Eps))
				p := params[i]
				if opt.WeightDecay > 0 {
					p = graph.Sub(p, graph.Mul(lr, graph.MulScalar(p, opt.WeightDecay)))
				}
				newP[i] = graph.Sub(p, graph.Mul(lr, upd))
			}
			if t.post != nil {
				newP = t.post(newP)
			}
			outs := append([]*graph.Node{loss}, newP...)
			outs = append(outs, newM...)
			outs = append(outs, newV...)
			return append(outs, extra...)
		})
		if err != nil {
			return 0, nil, fmt.Errorf("train: compile: %w", err)
		}
		t.exec = e.WithName("train.step")
	}
	t.step++
	s := float64(t.step)
	args := make([]any, 0, 3*len(t.params)+3+len(batch))
	for _, group := range [][]*tensors.Tensor{t.params, t.m, t.v} {
		for _, p := range group {
			args = append(args, p)
		}
	}
	args = append(args,
		tensors.FromScalar(float32(t.opt.Rate(t.step))),
		tensors.FromScalar(float32(1-math.Pow(t.opt.Beta1, s))),
		tensors.FromScalar(float32(1-math.Pow(t.opt.Beta2, s))))
	args = append(args, batch...)
	outs, err := t.exec.Call(args...)
	if err != nil {
		t.step--
		return 0, nil, fmt.Errorf("train: step: %w", err)
	}
	n := len(t.params)
	loss := float64(tensors.MustCopyFlatData[float32](outs[0])[0])
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		t.step--
		return loss, nil, fmt.Errorf("train: step %d: loss is %g; parameters left unchanged (lower the learning rate?)", t.step+1, loss)
	}
	for i := range t.params {
		t.params[i].FinalizeAll()
		t.m[i].FinalizeAll()
		t.v[i].FinalizeAll()
	}
	t.params, t.m, t.v = outs[1:1+n], outs[1+n:1+2*n], outs[1+2*n:1+3*n]
	return loss, outs[1+3*n:], nil
}

// Eval computes the loss function on a batch without updating.
func (t *Trainer) Eval(batch ...any) (float64, []*tensors.Tensor, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.evalExec == nil {
		n := len(t.params)
		e, err := graph.NewExec(t.backend, func(in []*graph.Node) []*graph.Node {
			loss, extra := t.loss(in[:n], in[n:])
			return append([]*graph.Node{loss}, extra...)
		})
		if err != nil {
			return 0, nil, fmt.Errorf("train: compile eval: %w", err)
		}
		t.evalExec = e.WithName("train.eval")
	}
	args := make([]any, 0, len(t.params)+len(batch))
	for _, p := range t.params {
		args = append(args, p)
	}
	args = append(args, batch...)
	outs, err := t.evalExec.Call(args...)
	if err != nil {
		return 0, nil, fmt.Errorf("train: eval: %w", err)
	}
	return float64(tensors.MustCopyFlatData[float32](outs[0])[0]), outs[1:], nil
}
