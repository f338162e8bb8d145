package pv

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
)

// passValues fills res.Collected and res.Sites from the decoder's extra
// outputs (per pass: what Collect interventions read, in key order, then
// the capture sites' values), zeroing the rows of examples that had
// stopped at EOS. It returns an error for values that are not float32 or
// not one per intervention and site.
func (iv *Model) passValues(res *Generation, out *lm.Generation, bb *lm.Batch, capture []lm.Site) error {
	var keys []string
	for i, info := range iv.infos {
		if info.Collects {
			keys = append(keys, iv.keys[i])
		}
	}
	if len(keys)+len(capture) == 0 {
		return nil
	}
	res.Base = bb
	if len(keys) > 0 {
		res.Collected = make(map[string][]*tensors.Tensor, len(keys))
	}
	if len(capture) > 0 {
		res.Sites = make(map[lm.Site][]*tensors.Tensor, len(capture))
	}
	for j, values := range out.Outputs {
		if len(values) != len(keys)+len(capture) {
			return fmt.Errorf("pv: generate: pass %d returned %d values, want %d (collect keys %q, sites %v)", j, len(values), len(keys)+len(capture), keys, capture)
		}
		for _, t := range values {
			if dt := t.Shape().DType; dt != dtypes.Float32 {
				return fmt.Errorf("pv: generate: pass %d: a value of dtype %s, want float32", j, dt)
			}
			if j > 0 {
				if err := zeroStopped(t, out.Tokens, j); err != nil {
					return fmt.Errorf("pv: generate: pass %d: %w", j, err)
				}
			}
		}
		for k, key := range keys {
			res.Collected[key] = append(res.Collected[key], values[k])
		}
		for k, s := range capture {
			res.Sites[s] = append(res.Sites[s], values[len(keys)+k])
		}
	}
	return nil
}

// zeroStopped zeroes, in t [b,...] of pass j >= 1, the rows of the
// examples that had stopped before it (fewer than j new tokens: they were
// fed padding).
func zeroStopped(t *tensors.Tensor, tokens [][]int, j int) error {
	var stopped []int
	for e, ids := range tokens {
		if len(ids) < j {
			stopped = append(stopped, e)
		}
	}
	if len(stopped) == 0 {
		return nil
	}
	return tensors.MutableFlatData(t, func(flat []float32) {
		row := len(flat) / len(tokens)
		for _, e := range stopped {
			clear(flat[e*row : (e+1)*row])
		}
	})
}

// passData copies per-pass values into govene.Tensors; what names them in
// errors.
func passData(what string, ts []*tensors.Tensor) ([]govene.Tensor, error) {
	out := make([]govene.Tensor, len(ts))
	for j, t := range ts {
		d, err := lm.TensorData(t)
		if err != nil {
			return nil, fmt.Errorf("pv: generation data: %s[%d]: %w", what, j, err)
		}
		out[j] = d
	}
	return out, nil
}
