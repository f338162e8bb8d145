package pv

import (
	"errors"
	"slices"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// A forward call's batch is split across the model's devices
// (lm.DevicesOf): each device runs the same compiled graph on a contiguous
// part of the base batch, padded to the whole batch's length, and the parts'
// outputs are put back together in order, so Forward (and IIA, which runs
// through it) returns what one device returns. Interventions must therefore
// act on each example on its own, as every built-in kind does.

// forwardArgs returns the arguments of an intervened forward graph as
// lm.Devices.Call takes them: the model's parameters Kept (copied to each
// device once); the batch's ids, mask and positions and every input prepare
// makes, which are all per example and batch-first (unit indices [b,k],
// source values [b,k,...] or [b,s,w], subspace masks [b,w]), Batched; the
// interventions' weights and temperatures Copied, since Train and SetWeight
// change them. It returns an error for an input that is not a tensor.
func (iv *Model) forwardArgs(bb *lm.Batch, inputs []any) ([]lm.Arg, error) {
	extra := slices.Repeat([]lm.ArgKind{lm.Batched}, len(inputs))
	return lm.ForwardArgs{Params: iv.model.Params(), Batch: bb, Extra: append(slices.Clip(inputs), iv.weightArgs()...)}.Args(extra...)
}

// run runs an intervened forward graph on the model's devices, each on its
// part of the batch. Every output is batch-first and joined in order: the
// logits [b,s,vocab] ([b,1,vocab] for last-position logits), what Collect
// interventions read ([b,k,w], [b,k,s,w], [b,kh,kp,w] or the whole site)
// and the captured sites ([b,s,w] or [b,h,s,w]). A panic while the graph is
// built or run is returned as an error.
func (iv *Model) run(e *graph.Exec, bb *lm.Batch, inputs []any) ([]*tensors.Tensor, error) {
	if iv.devices == nil {
		return nil, errors.New("pv: the model has no backend to run on")
	}
	args, err := iv.forwardArgs(bb, inputs)
	if err != nil {
		return nil, err
	}
	return iv.devices.Call(e, args, lm.AllBatched)
}

// partShapes returns the shapes of the arguments one device receives from
// lm.Devices.Call: the Batched ones cut to the first part's batch (the
// whole batch on one device, or for a nil d), the others whole.
func partShapes(d *lm.Devices, args []lm.Arg) []shapes.Shape {
	k := 1
	if d != nil {
		k = d.Len()
	}
	part := -1
	out := make([]shapes.Shape, len(args))
	for i, a := range args {
		out[i] = a.Value.Shape()
		if a.Kind != lm.Batched || a.Value.Rank() == 0 {
			continue
		}
		if part < 0 {
			n := out[i].Dimensions[0]
			part = n
			if parts := lm.Chunks(n, k); len(parts) > 1 {
				part = parts[0][1] - parts[0][0]
			}
		}
		out[i] = out[i].Clone()
		out[i].Dimensions[0] = part
	}
	return out
}
