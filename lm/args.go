package lm

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// BatchArgs is how many graph arguments a Batch takes: its ids, mask and
// positions.
const BatchArgs = 3

// ForwardArgs are a forward graph's arguments, named: the model's
// parameters, one batch of token sequences and the caller's extra inputs
// (interventions' values, a KV cache, training targets). List lays them out
// for graph.Exec.Call in the order SplitForward reads them back as nodes.
type ForwardArgs struct {
	// Params are the model's weights (Model.Params()); nil for graphs that
	// take them separately (a training loss).
	Params []*tensors.Tensor
	// Batch is the padded token sequences.
	Batch *Batch
	// Extra are the caller's further inputs, after the batch.
	Extra []any
}

// List returns the arguments in order: Params, then the batch's IDs, Mask
// and Positions as [Size,Len] tensors, then Extra.
func (a ForwardArgs) List() []any {
	b := a.Batch
	args := make([]any, 0, len(a.Params)+BatchArgs+len(a.Extra))
	for _, p := range a.Params {
		args = append(args, p)
	}
	args = append(args,
		tensors.FromFlatDataAndDimensions(b.IDs, b.Size, b.Len),
		tensors.FromFlatDataAndDimensions(b.Mask, b.Size, b.Len),
		tensors.FromFlatDataAndDimensions(b.Positions, b.Size, b.Len))
	return append(args, a.Extra...)
}

// ForwardNodes are ForwardArgs inside the graph.
type ForwardNodes struct {
	// Params are the parameter nodes, for Model.BuildForward.
	Params []*graph.Node
	// Inputs has IDs, Mask and Positions set; the caller sets the rest
	// (LastOnly, Cache, ...).
	Inputs Inputs
	// Extra are the nodes of ForwardArgs.Extra, in order.
	Extra []*graph.Node
}

// SplitForward names a graph's input nodes laid out by ForwardArgs.List
// with nParams parameters. Like GoMLX's graph functions it panics while the
// graph is built (GoMLX returns it as the call's error) when in has fewer
// than nParams+BatchArgs nodes.
func SplitForward(in []*graph.Node, nParams int) ForwardNodes {
	if nParams < 0 || len(in) < nParams+BatchArgs {
		panic(fmt.Errorf("lm: graph has %d inputs; want at least %d parameters + %d batch inputs", len(in), nParams, BatchArgs))
	}
	b := in[nParams:]
	return ForwardNodes{
		Params: in[:nParams],
		Inputs: Inputs{IDs: b[0], Mask: b[1], Positions: b[2]},
		Extra:  in[nParams+BatchArgs:],
	}
}
