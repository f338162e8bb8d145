package sweep

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// The resumed path's graphs take the model's weights (all of them, or one
// block's in block 0's slots), then their own inputs. Each graph's own
// inputs are a struct whose slots method lists its fields in order: with
// T = *tensors.Tensor it gives the call's arguments (args), with T =
// *graph.Node the graph's input nodes (unpack), so the two always agree.
// Its kinds method says how each slot goes to the model's devices
// (lm.Devices.Call), which split a call's settings (the batch) across
// them: per-setting inputs Batched, inputs shared by every setting Kept
// or Copied. Every graph's outputs are batch-first.

// blockInputs feed the sweep's block graph (blockExec) for n settings and
// a window of win positions.
type blockInputs[T any] struct {
	Resid        T // residual entering the block [n,win,d]
	Keys, Values T // the base run's keys and values at this layer [1,KVHeadCount,s,dh]
	Start        T // the window's first position q, int32 scalar
	PosMask      T // which positions each setting patches [n,win]
	Heads        T // the head each setting patches ("h.pos") [n] int32
	Mask         T // 1 for settings that patch this layer [n]
	Src          T // the source's values at the patched cells [n,win,w]
}

func (b *blockInputs[T]) slots() []*T {
	return []*T{&b.Resid, &b.Keys, &b.Values, &b.Start, &b.PosMask, &b.Heads, &b.Mask, &b.Src}
}

// kinds: the base run's keys and values, the same for every setting of a
// sweep, are Kept; the window's start is Copied; the rest is per setting.
func (*blockInputs[T]) kinds() []lm.ArgKind {
	return []lm.ArgKind{lm.Batched, lm.Kept, lm.Kept, lm.Copied, lm.Batched, lm.Batched, lm.Batched, lm.Batched}
}

// runInputs feed the block graph of a whole-prompt run (runExec).
type runInputs[T any] struct {
	Resid T // residual entering the block [1,s,d]
	Mask  T // [1,s] ones
}

func (r *runInputs[T]) slots() []*T { return []*T{&r.Resid, &r.Mask} }

func (*runInputs[T]) kinds() []lm.ArgKind { return []lm.ArgKind{lm.Batched, lm.Batched} }

// headInputs feed the head graph (headExec).
type headInputs[T any] struct {
	Resid T // residual leaving the last block [n,win,d]
}

func (h *headInputs[T]) slots() []*T { return []*T{&h.Resid} }

func (*headInputs[T]) kinds() []lm.ArgKind { return []lm.ArgKind{lm.Batched} }

// args returns weights (Kept) then the inputs in slots, of the given
// kinds, as lm.Devices.Call arguments.
func args(weights []*tensors.Tensor, slots []**tensors.Tensor, kinds []lm.ArgKind) []lm.Arg {
	out := make([]lm.Arg, 0, len(weights)+len(slots))
	for _, w := range weights {
		out = append(out, lm.Arg{Value: w, Kind: lm.Kept})
	}
	for i, s := range slots {
		out = append(out, lm.Arg{Value: *s, Kind: kinds[i]})
	}
	return out
}

// call runs e on the model's devices, each on its part of the settings,
// and returns its outputs (all batch-first) joined in order.
func (sw *Sweeper) call(e *graph.Exec, args []lm.Arg) ([]*tensors.Tensor, error) {
	if sw.devices == nil {
		return nil, errors.New("sweep: the model has no backend to run on")
	}
	return sw.devices.Call(e, args, lm.AllBatched)
}

// unpack sets slots from the graph inputs after the first n (the
// weights), and returns those n.
func unpack(in []*graph.Node, n int, slots []**graph.Node) []*graph.Node {
	for i, s := range slots {
		*s = in[n+i]
	}
	return in[:n]
}

// blockWeights returns block l's weights, for a graph built as block 0.
func (sw *Sweeper) blockWeights(l int) []*tensors.Tensor {
	from, to, _ := sw.model.(lm.LayerSharer).LayerParams(l)
	return sw.model.Params()[from:to]
}

// unpackBlock splits a block graph's inputs: block 0's weights, placed in
// a full-length parameter list for BuildForward (the other slots nil: one
// block reads only its own), and slots from the inputs after them.
func (sw *Sweeper) unpackBlock(in []*graph.Node, slots []**graph.Node) []*graph.Node {
	from, to, _ := sw.model.(lm.LayerSharer).LayerParams(0)
	params := make([]*graph.Node, len(sw.model.Params()))
	copy(params[from:to], unpack(in, to-from, slots))
	return params
}

// exec returns the Sweeper's graph key, made by build on first use. It
// compiles once per shape of its inputs (up to 256 shapes); each
// compilation counts in Compiles.
func (sw *Sweeper) exec(key string, build func(in []*graph.Node) []*graph.Node) (*graph.Exec, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if e, ok := sw.execs[key]; ok {
		return e, nil
	}
	e, err := graph.NewExec(sw.model.Backend(), func(in []*graph.Node) []*graph.Node {
		sw.compiles.Add(1)
		return build(in)
	})
	if err != nil {
		return nil, fmt.Errorf("sweep: compile: %w", err)
	}
	e = e.WithName("sweep." + key)
	e.SetMaxCache(256)
	if sw.execs == nil {
		sw.execs = map[string]*graph.Exec{}
	}
	sw.execs[key] = e
	return e, nil
}

// ones returns a float32 node of ones of the given shape.
// iotaPositions returns the position ids 0..s-1 of n unpadded rows [n,s].
func iotaPositions(g *graph.Graph, n, s int) *graph.Node {
	return graph.Iota(g, shapes.Make(dtypes.Int32, n, s), 1)
}

func ones(g *graph.Graph, dims ...int) *graph.Node {
	return graph.Ones(g, shapes.Make(dtypes.Float32, dims...))
}

// blockExec returns the graph that runs one block over a window of
// positions for n settings (blockInputs), patching cfg's component where a
// setting's mask is 1, and returns the residual leaving the block. It is
// built as block 0 and fed each layer's weights in turn, so it compiles
// once per shape (window, settings, prompt length) for the whole sweep,
// whatever the layer.
func (sw *Sweeper) blockExec(cfg Config) (*graph.Exec, error) {
	d := sw.model.Dims()
	comp, unit := cfg.Component, cfg.Unit
	return sw.exec("block."+string(comp)+"."+string(unit), func(nodes []*graph.Node) []*graph.Node {
		var in blockInputs[*graph.Node]
		params := sw.unpackBlock(nodes, in.slots())
		n := in.Resid.Shape().Dimensions[0]
		bcast := func(x *graph.Node) *graph.Node {
			dims := slices.Clone(x.Shape().Dimensions)
			dims[0] = n
			return graph.BroadcastToDims(x, dims...)
		}
		kv := &lm.KVCache{Start: in.Start, Mask: ones(in.Resid.Graph(), n, in.Keys.Shape().Dimensions[2]),
			Keys: make([]*graph.Node, d.Layers), Values: make([]*graph.Node, d.Layers)}
		kv.Keys[0], kv.Values[0] = bcast(in.Keys), bcast(in.Values)
		// sel is 1 at the patched cells of settings that patch this layer;
		// x(1-sel) + src·sel keeps the others bit for bit.
		sel := graph.Mul(in.PosMask, graph.ExpandAxes(in.Mask, -1)) // [n,win]
		hook := func(site lm.Site, x *graph.Node) *graph.Node {
			if site.Component != comp {
				return x
			}
			sv, v := graph.ExpandAxes(sel, -1), in.Src // [n,win,1], [n,win,w]
			if unit == pv.HeadPos {                    // x [n,h,win,dh]
				heads := d.HeadCount(comp)                              // key/value heads for their sites
				headOH := graph.OneHot(in.Heads, heads, dtypes.Float32) // [n,h]
				sv = graph.Mul(graph.ExpandAxes(sv, 1), graph.Reshape(headOH, n, heads, 1, 1))
				v = graph.ExpandAxes(in.Src, 1)
			}
			sv = graph.BroadcastToShape(sv, x.Shape())
			return graph.Add(graph.Mul(x, graph.OneMinus(sv)), graph.Mul(graph.BroadcastToShape(v, x.Shape()), sv))
		}
		win := in.Resid.Shape().Dimensions[1]
		pos := graph.Add(iotaPositions(in.Resid.Graph(), n, win), graph.ConvertDType(in.Start, dtypes.Int32))
		return []*graph.Node{sw.model.BuildForward(params, lm.Inputs{Residual: in.Resid, Positions: pos, StartLayer: 0, EndLayer: 1, Cache: kv}, hook)}
	})
}

// headExec returns the graph from the residual leaving the last block
// (headInputs, after every weight) to the last position's logits.
func (sw *Sweeper) headExec() (*graph.Exec, error) {
	nAll, L := len(sw.model.Params()), sw.model.Dims().Layers
	return sw.exec("head", func(nodes []*graph.Node) []*graph.Node {
		var in headInputs[*graph.Node]
		params := unpack(nodes, nAll, in.slots())
		dims := in.Resid.Shape().Dimensions
		mask := ones(in.Resid.Graph(), dims[0], dims[1])
		return []*graph.Node{sw.model.BuildForward(params, lm.Inputs{Residual: in.Resid, StartLayer: L, Mask: mask, LastOnly: true}, nil)}
	})
}

// embedExec returns the graph of the token embeddings plus noise: its
// inputs are laid out by embedArgs (lm.ForwardArgs with every weight and
// the noise [1,s,d] as the one extra input), its output is the residual
// entering block 0.
func (sw *Sweeper) embedExec() (*graph.Exec, error) {
	nAll := len(sw.model.Params())
	return sw.exec("embed", func(nodes []*graph.Node) []*graph.Node {
		fn := lm.SplitForward(nodes, nAll)
		noise := fn.Extra[0]
		var out *graph.Node
		hook := func(site lm.Site, x *graph.Node) *graph.Node {
			if site.Layer == 0 && site.Component == lm.BlockInput {
				x = graph.Add(x, noise)
				out = x
			}
			return x
		}
		in := fn.Inputs
		in.EndLayer = 1
		sw.model.BuildForward(fn.Params, in, hook)
		return []*graph.Node{out}
	})
}

// runExec returns the block graph of runLayers: built as block 0 and fed
// each layer's weights and runInputs, it returns the residual leaving the
// block, its keys, values, and its value at comp.
func (sw *Sweeper) runExec(comp lm.Component) (*graph.Exec, error) {
	return sw.exec("run."+string(comp), func(nodes []*graph.Node) []*graph.Node {
		var in runInputs[*graph.Node]
		params := sw.unpackBlock(nodes, in.slots())
		// The block writes its keys and values (rotated, for rotary
		// models) into an empty cache of the prompt's length, which the
		// sweep's block graph then resumes from.
		g, d := in.Resid.Graph(), sw.model.Dims()
		b, s := in.Resid.Shape().Dimensions[0], in.Resid.Shape().Dimensions[1]
		empty := graph.Zeros(g, shapes.Make(dtypes.Float32, b, d.KVHeadCount(), s, d.HeadDim))
		kv := &lm.KVCache{Start: graph.Scalar(g, dtypes.Int32, 0), Mask: in.Mask,
			Keys: make([]*graph.Node, d.Layers), Values: make([]*graph.Node, d.Layers)}
		kv.Keys[0], kv.Values[0] = empty, empty
		var val *graph.Node
		hook := func(site lm.Site, x *graph.Node) *graph.Node {
			if site.Component == comp {
				val = x
			}
			return x
		}
		out := sw.model.BuildForward(params, lm.Inputs{Residual: in.Resid, Mask: in.Mask, Positions: iotaPositions(g, b, s), EndLayer: 1, Cache: kv}, hook)
		keys, values := kv.Keys[0], kv.Values[0]
		return []*graph.Node{out, keys, values, val}
	})
}
