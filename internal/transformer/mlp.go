package transformer

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/ml/layers/activation"

	"github.com/govene/govene/lm"
)

// Activation is an MLP's nonlinearity.
type Activation int

const (
	// GeluTanh is GELU's tanh approximation (transformers' gelu_new,
	// gelu_pytorch_tanh, gelu_fast).
	GeluTanh Activation = iota
	// Gelu is the exact GELU, x*Φ(x) with the erf.
	Gelu
	// Relu is max(x, 0).
	Relu
	// Silu is x*sigmoid(x) (swish).
	Silu
)

// activationNames maps transformers' hidden_act / activation_function
// names to activations.
var activationNames = map[string]Activation{
	"gelu_new": GeluTanh, "gelu_pytorch_tanh": GeluTanh, "gelu_fast": GeluTanh,
	"gelu": Gelu, "relu": Relu, "silu": Silu, "swish": Silu,
}

// ActivationNames lists the names ParseActivation accepts.
var ActivationNames = []string{"gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "relu", "silu", "swish"}

// ParseActivation returns the activation transformers calls name, or an
// error listing the valid names.
func ParseActivation(name string) (Activation, error) {
	a, ok := activationNames[name]
	if !ok {
		return 0, fmt.Errorf("transformer: activation %q is not supported; valid: %v", name, ActivationNames)
	}
	return a, nil
}

// Apply returns a(x). An unknown Activation value applies GeluTanh.
func (a Activation) Apply(x *Node) *Node {
	switch a {
	case Gelu:
		return activation.Gelu(x)
	case Relu:
		return activation.Relu(x)
	case Silu:
		return activation.Swish(x)
	default:
		return activation.GeluApproximate(x)
	}
}

// MLPWeights are an MLP's projections. Gate nil makes a plain MLP,
// down(act(up(x))); Gate set makes a gated one, down(act(gate(x))*up(x))
// (SwiGLU with Silu, GeGLU with GeluTanh). Biases are optional (nil).
type MLPWeights struct {
	Up, Gate, Down LinearWeights
}

// MLP applies the feed-forward block to x [b,s,d] and returns [b,s,d],
// calling at at lm.MLPActivation with the activation's output, as pyvene
// hooks act_fn (act(gate(x)) when gated, act(up(x)) when plain), then at
// lm.MLPPost with the down projection's input (act(gate(x))*up(x) when
// gated; for a plain MLP the value mlp_activation's hook returned), both
// [b,s,inner]. The caller hooks the MLP's input and output (lm.MLPInput,
// lm.MLPOutput).
func MLP(x *Node, act Activation, w MLPWeights, at At) *Node {
	var h *Node
	if w.Gate.W != nil {
		a := at.Call(lm.MLPActivation, act.Apply(Linear(x, w.Gate)))
		h = Mul(a, Linear(x, w.Up))
	} else {
		h = at.Call(lm.MLPActivation, act.Apply(Linear(x, w.Up)))
	}
	h = at.Call(lm.MLPPost, h)
	return Linear(h, w.Down)
}
