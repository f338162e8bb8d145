package sweep

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// layerRun is one prompt's pass through the model, block by block: per
// layer, the residual entering it and its value at the swept component
// (flat), its keys and values ([1,h,s,dh] tensors, inputs of the sweep's
// block graph as they are), and the last position's logits.
type layerRun struct {
	resid, comp [][]float32
	kv          [][2]*tensors.Tensor
	logits      *tensors.Tensor
}

// release frees the run's tensors.
func (r *layerRun) release() {
	for _, kv := range r.kv {
		kv[0].FinalizeAll()
		kv[1].FinalizeAll()
	}
	r.logits.FinalizeAll()
}

// embedArgs returns the embedding graph's arguments for prompt p
// (lm.ForwardArgs: every weight, p as a batch of one, and a corruption's
// noise, if any, at its positions, [1,s,d] and Batched), and the batch's
// mask as a [1,s] tensor for the block graphs. It returns an error for an
// empty prompt.
func (sw *Sweeper) embedArgs(p lm.Prompt, corrupt *Corruption) ([]lm.Arg, *tensors.Tensor, error) {
	b, err := lm.NewBatch([]lm.Prompt{p}, 0, 0, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("sweep: %w", err)
	}
	hidden := sw.model.Dims().Hidden
	noise := make([]float32, b.Len*hidden)
	if corrupt != nil {
		rows := corrupt.Noise(hidden)
		for i, at := range corrupt.Positions {
			copy(noise[at*hidden:(at+1)*hidden], rows[i*hidden:])
		}
	}
	args, err := lm.ForwardArgs{Params: sw.model.Params(), Batch: b,
		Extra: []any{tensors.FromFlatDataAndDimensions(noise, 1, b.Len, hidden)}}.Args(lm.Batched)
	if err != nil {
		return nil, nil, fmt.Errorf("sweep: %w", err)
	}
	return args, tensors.FromFlatDataAndDimensions(b.Mask, 1, b.Len), nil
}

// runLayers runs p block by block with the graphs a resumed sweep uses
// (the embeddings, one block graph for every layer, the head), so the base
// and source runs compile little. A corruption's noise is added to the token
// embeddings at its positions, as Trace's corrupted run does.
func (sw *Sweeper) runLayers(p lm.Prompt, comp lm.Component, corrupt *Corruption) (*layerRun, error) {
	embed, err := sw.embedExec()
	if err != nil {
		return nil, err
	}
	block, err := sw.runExec(comp)
	if err != nil {
		return nil, err
	}
	final, err := sw.headExec()
	if err != nil {
		return nil, err
	}
	embArgs, mask, err := sw.embedArgs(p, corrupt)
	if err != nil {
		return nil, err
	}
	outs, err := sw.call(embed, embArgs)
	if err != nil {
		return nil, err
	}
	in := runInputs[*tensors.Tensor]{Resid: outs[0], Mask: mask}
	r := &layerRun{}
	for l := range sw.model.Dims().Layers {
		outs, err := sw.call(block, args(sw.blockWeights(l), in.slots(), in.kinds()))
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", l, err)
		}
		resid, err := tensors.CopyFlatData[float32](in.Resid)
		if err != nil {
			return nil, err
		}
		val, err := tensors.CopyFlatData[float32](outs[3])
		if err != nil {
			return nil, err
		}
		in.Resid.FinalizeAll()
		outs[3].FinalizeAll()
		r.resid, r.comp = append(r.resid, resid), append(r.comp, val)
		r.kv = append(r.kv, [2]*tensors.Tensor{outs[1], outs[2]})
		in.Resid = outs[0]
	}
	head := headInputs[*tensors.Tensor]{Resid: in.Resid}
	outs, err = sw.call(final, args(sw.model.Params(), head.slots(), head.kinds()))
	head.Resid.FinalizeAll()
	if err != nil {
		return nil, err
	}
	r.logits = outs[0]
	return r, nil
}
