package job

import (
	"context"
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/safetensors"
)

// shardOut is what a kind computes for one shard.
type shardOut struct {
	tensors []safetensors.Tensor
	summary map[string]float64
}

// siteValues accumulates one site's values over a shard.
type siteValues struct {
	data  []float32
	inner []int // the shape of one position's value: [d] or [h, d]
}

// collect runs the shard's rows through the model and keeps the values at
// the spec's sites: at the last position ([rows, d...] per site), or at
// every position ([tokens, d...] per site plus "offsets" [rows+1]).
func (w *Worker) collect(ctx context.Context, rows []row) (shardOut, error) {
	all := w.plan.Spec.Positions == All
	vals := make([]siteValues, len(w.sites))
	offsets := []int64{0}
	err := w.batches(ctx, rows, func(batch []row) error {
		prompts := make([]lm.Prompt, len(batch))
		for i, r := range batch {
			var err error
			if r.IDs != nil {
				prompts[i] = lm.Prompt{IDs: r.IDs}
				err = w.checkPrompt(r, "ids", prompts[i])
			} else {
				prompts[i], err = w.encode(r, "text", *r.Text)
			}
			if err != nil {
				return err
			}
		}
		res, err := w.runner.RunSites(prompts, w.sites...)
		if err != nil {
			return err
		}
		for k, s := range w.sites {
			if err := vals[k].add(res, s, all); err != nil {
				return err
			}
		}
		if all {
			for _, p := range prompts {
				offsets = append(offsets, offsets[len(offsets)-1]+int64(p.Len()))
			}
		}
		return nil
	})
	if err != nil {
		return shardOut{}, err
	}
	var out shardOut
	for k, s := range w.sites {
		n := len(rows)
		if all {
			n = int(offsets[len(offsets)-1])
		}
		shape := append([]int{n}, vals[k].inner...)
		out.tensors = append(out.tensors, safetensors.F32Tensor(s.String(), shape, vals[k].data))
	}
	if all {
		out.tensors = append(out.tensors, safetensors.I64Tensor("offsets", []int{len(offsets)}, offsets))
	}
	return out, nil
}

// add appends the values of site s in res: each example's last position,
// or all its positions, each as a [d] or (head sites) [h, d] value.
func (v *siteValues) add(res *lm.Result, s lm.Site, all bool) error {
	t, ok := res.Sites[s]
	if !ok {
		return fmt.Errorf("site %s: the forward pass returned no value", s)
	}
	flat, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return fmt.Errorf("site %s: %w", s, err)
	}
	dims := t.Shape().Dimensions
	seqAxis := 1
	if s.Component.IsHead() {
		seqAxis = 2
	}
	if len(dims) <= seqAxis {
		return fmt.Errorf("site %s: value of shape %v has no sequence axis %d", s, dims, seqAxis)
	}
	outer, inner := 1, 1 // products of the axes between batch and seq, and after seq
	for _, d := range dims[1:seqAxis] {
		outer *= d
	}
	for _, d := range dims[seqAxis+1:] {
		inner *= d
	}
	if v.inner == nil {
		v.inner = append(append([]int{}, dims[1:seqAxis]...), dims[seqAxis+1:]...)
	}
	seq, b := dims[seqAxis], res.Batch
	take := func(i, col int) {
		for o := range outer {
			start := ((i*outer+o)*seq + col) * inner
			v.data = append(v.data, flat[start:start+inner]...)
		}
	}
	for i := range b.Size {
		if !all {
			take(i, seq-1) // left padding: every example ends at the last column
			continue
		}
		for col := seq - b.Lengths[i]; col < seq; col++ {
			take(i, col)
		}
	}
	return nil
}
