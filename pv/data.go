package pv

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene"
)

// Data returns the output as plain data (govene.Output): the logits, the
// original logits, the collected values and the captured sites, copied to
// float32 slices. It returns an error for an empty output (not one of
// Forward) or a tensor that is not float32, naming it.
func (o *Output) Data() (*govene.Output, error) {
	if o == nil || o.Base == nil || o.Logits == nil {
		return nil, errors.New("pv: output data: empty output; use the Output of Forward")
	}
	logits, err := tensorData("logits", o.Logits)
	if err != nil {
		return nil, err
	}
	out := &govene.Output{Lengths: append([]int(nil), o.Base.Lengths...), Logits: logits}
	if o.Original != nil {
		orig, err := tensorData("original", o.Original)
		if err != nil {
			return nil, err
		}
		out.Original = &orig
	}
	if len(o.Collected) > 0 {
		out.Collected = make(map[string]govene.Tensor, len(o.Collected))
		for k, t := range o.Collected {
			if out.Collected[k], err = tensorData(fmt.Sprintf("collected[%q]", k), t); err != nil {
				return nil, err
			}
		}
	}
	if len(o.Sites) > 0 {
		out.Sites = make(map[string]govene.Tensor, len(o.Sites))
		for s, t := range o.Sites {
			if out.Sites[s.String()], err = tensorData(fmt.Sprintf("sites[%s]", s), t); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// tensorData copies t into a govene.Tensor; what names it in errors.
func tensorData(what string, t *tensors.Tensor) (govene.Tensor, error) {
	if t == nil {
		return govene.Tensor{}, fmt.Errorf("pv: output data: %s: nil tensor", what)
	}
	data, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return govene.Tensor{}, fmt.Errorf("pv: output data: %s: %w", what, err)
	}
	return govene.Tensor{Shape: slices.Clone(t.Shape().Dimensions), Data: data}, nil
}
