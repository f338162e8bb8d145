package job

import (
	"context"
	"fmt"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/safetensors"
)

// forward runs bases with the intervenable, source group g of example e
// being groups[g][e], every intervention at the last positions of its
// source and its base, logits at the last position only.
func (w *Worker) forward(bases []lm.Prompt, groups [][]lm.Prompt, original bool) (*pv.Output, error) {
	n := len(w.group)
	src, base := make([][][]int, n), make([][][]int, n)
	for i := range n {
		g := groups[min(w.group[i], len(groups)-1)]
		for e, b := range bases {
			src[i] = append(src[i], []int{g[e].Last()})
			base[i] = append(base[i], []int{b.Last()})
		}
	}
	opts := []pv.Option{pv.SourceBatches(groups...), pv.Locations(src, base), pv.LastLogitsOnly()}
	if original {
		opts = append(opts, pv.WithOriginal())
	}
	return w.iv.Forward(bases, opts...)
}

// patch runs each row's base with the source's value at the intervention
// site(s) patched in at the last position, and keeps the top next token
// with and without the patch ("original_top", "patched_top" [rows]) and,
// for rows with targets, the targets' log-probabilities
// ("original_logprob", "patched_logprob" [rows, targets]).
func (w *Worker) patch(ctx context.Context, rows []row) (shardOut, error) {
	nt := w.plan.Targets
	var origTop, patchTop []int64
	var origLP, patchLP []float32
	changed := 0
	err := w.batches(ctx, rows, func(batch []row) error {
		bases, srcs := make([]lm.Prompt, len(batch)), make([]lm.Prompt, len(batch))
		targets := make([][]int, len(batch))
		for e, r := range batch {
			var err error
			if bases[e], err = w.encode(r, "base", *r.Base); err != nil {
				return err
			}
			if srcs[e], err = w.encode(r, "source", *r.Source); err != nil {
				return err
			}
			for k, t := range r.Targets {
				id, err := w.token(r, fmt.Sprintf("targets[%d]", k), t)
				if err != nil {
					return err
				}
				targets[e] = append(targets[e], id)
			}
		}
		out, err := w.forward(bases, [][]lm.Prompt{srcs}, true)
		if err != nil {
			return err
		}
		for e := range batch {
			before, err := out.LastLogits(e, true)
			if err != nil {
				return err
			}
			after, err := out.LastLogits(e, false)
			if err != nil {
				return err
			}
			bt, at := lm.Argmax(before), lm.Argmax(after)
			origTop, patchTop = append(origTop, int64(bt)), append(patchTop, int64(at))
			if bt != at {
				changed++
			}
			origLP = append(origLP, logProbs(before, targets[e])...)
			patchLP = append(patchLP, logProbs(after, targets[e])...)
		}
		return nil
	})
	if err != nil {
		return shardOut{}, err
	}
	n := len(rows)
	out := shardOut{
		tensors: []safetensors.Tensor{
			safetensors.I64Tensor("original_top", []int{n}, origTop),
			safetensors.I64Tensor("patched_top", []int{n}, patchTop),
		},
		summary: map[string]float64{"changed": float64(changed), "total": float64(n)},
	}
	if nt > 0 {
		out.tensors = append(out.tensors,
			safetensors.F32Tensor("original_logprob", []int{n, nt}, origLP),
			safetensors.F32Tensor("patched_logprob", []int{n, nt}, patchLP))
	}
	return out, nil
}

// logProbs returns log-softmax(logits) at ids, computed in float64.
func logProbs(logits []float32, ids []int) []float32 {
	if len(ids) == 0 {
		return nil
	}
	lse := govene.LogSumExp(logits)
	out := make([]float32, len(ids))
	for k, id := range ids {
		out[k] = float32(float64(logits[id]) - lse)
	}
	return out
}

// iia runs each row's base with its sources' values interchanged in and
// compares the top next token with the row's label: "predicted", "label"
// [rows] int64, "correct" [rows] float32 (1 or 0), and the summary's
// "correct" and "total". The prediction is pv.Model.IIA's: the argmax of
// the next-token probabilities.
func (w *Worker) iia(ctx context.Context, rows []row) (shardOut, error) {
	var predicted, labels []int64
	var correct []float32
	total := 0.0
	err := w.batches(ctx, rows, func(batch []row) error {
		bases := make([]lm.Prompt, len(batch))
		groups := make([][]lm.Prompt, w.groups)
		for e, r := range batch {
			var err error
			if bases[e], err = w.encode(r, "base", *r.Base); err != nil {
				return err
			}
			if len(r.Sources) != 1 && len(r.Sources) != w.groups {
				return fmt.Errorf("%s: %d given, the intervenable has %d source groups (give one per group, or one for all)",
					r.at(w.plan.Spec.Dataset, "sources"), len(r.Sources), w.groups)
			}
			for g := range groups {
				k := min(g, len(r.Sources)-1)
				p, err := w.encode(r, fmt.Sprintf("sources[%d]", k), r.Sources[k])
				if err != nil {
					return err
				}
				groups[g] = append(groups[g], p)
			}
			label, err := w.token(r, "label", *r.Label)
			if err != nil {
				return err
			}
			labels = append(labels, int64(label))
		}
		out, err := w.forward(bases, groups, false)
		if err != nil {
			return err
		}
		for e := range batch {
			p, err := out.NextTokenProbs(e, false)
			if err != nil {
				return err
			}
			top := lm.Argmax(p)
			predicted = append(predicted, int64(top))
			ok := float32(0)
			if int64(top) == labels[len(predicted)-1] {
				ok = 1
				total++
			}
			correct = append(correct, ok)
		}
		return nil
	})
	if err != nil {
		return shardOut{}, err
	}
	n := len(rows)
	return shardOut{
		tensors: []safetensors.Tensor{
			safetensors.I64Tensor("predicted", []int{n}, predicted),
			safetensors.I64Tensor("label", []int{n}, labels),
			safetensors.F32Tensor("correct", []int{n}, correct),
		},
		summary: map[string]float64{"correct": total, "total": float64(n)},
	}, nil
}
