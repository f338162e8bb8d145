package transformer

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
)

// Layout says how a projection's weight matrix is stored.
type Layout int

const (
	// InOut stores the weight [in, out], as GPT-2's Conv1D does.
	InOut Layout = iota
	// OutIn stores the weight [out, in], as torch's nn.Linear does
	// (Llama, Mistral, Qwen2, Gemma, GPT-NeoX).
	OutIn
)

// LinearWeights are a projection's weight, in Layout, and its bias [out]
// (nil: none).
type LinearWeights struct {
	W, Bias *Node
	Layout  Layout
}

// Linear returns x @ W (+ Bias), x [b,s,in] to [b,s,out]. It panics (while
// the graph is built) when the shapes do not match.
func Linear(x *Node, w LinearWeights) *Node {
	var y *Node
	if w.Layout == OutIn {
		y = Einsum("bsi,oi->bso", x, w.W)
	} else {
		y = Einsum("bsi,io->bso", x, w.W)
	}
	if w.Bias == nil {
		return y
	}
	return Add(y, ExpandLeftToRank(w.Bias, 3))
}
