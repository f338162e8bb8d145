package lm

import (
	"errors"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene"
)

// TensorData copies t, a float32 tensor on any backend, into a
// govene.Tensor (its shape and its values, row-major). A nil tensor or one
// that is not float32 is an error.
func TensorData(t *tensors.Tensor) (govene.Tensor, error) {
	if t == nil {
		return govene.Tensor{}, errors.New("nil tensor")
	}
	data, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return govene.Tensor{}, err
	}
	return govene.Tensor{Shape: slices.Clone(t.Shape().Dimensions), Data: data}, nil
}
