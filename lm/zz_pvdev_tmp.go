package lm
// TEMPORARY (branch pvdev): a copy of branch devices' lm/placed.go, removed on merge.

import (
	"fmt"
	"weak"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
)

// Placed is implemented by models that carry the set of devices their
// batched work is split across (chosen when the model is loaded).
type Placed interface {
	// Devices returns the model's devices; nil when it has none.
	Devices() *Devices
}

// DevicesOf returns the devices m's batched work is split across: m's own
// set when m implements Placed and has one, else a set of one device,
// device 0 of m.Backend(). It returns nil for a nil model or a model
// without a backend.
func DevicesOf(m Model) *Devices {
	if m == nil {
		return nil
	}
	if p, ok := m.(Placed); ok {
		if d := p.Devices(); d != nil {
			return d
		}
	}
	return firstDevice(m.Backend())
}

// firstDevice returns the set of b's device 0 (nil for a nil backend).
func firstDevice(b compute.Backend) *Devices {
	if b == nil {
		return nil
	}
	d, err := NewDevices(b, []int{0})
	if err != nil {
		// A backend reporting no devices still runs a plain call on its
		// default device, device 0.
		return &Devices{backend: b, nums: []compute.DeviceNum{0}, kept: map[weak.Pointer[tensors.Tensor]]*replicas{}}
	}
	return d
}

// Args returns the arguments as Devices.Call takes them: Params Kept
// (copied to each device once), the batch's ids, mask and positions
// Batched (they are [Size,Len]), then Extra, whose kinds extra gives in
// order (Copied for an Extra value extra does not cover). An Extra value
// that is not a *tensors.Tensor is converted with tensors.FromAnyValue; one
// that cannot be is an error naming it.
func (a ForwardArgs) Args(extra ...ArgKind) ([]Arg, error) {
	list := a.List()
	out := make([]Arg, len(list))
	nBatch := len(a.Params) + BatchArgs
	for i, v := range list {
		kind := Kept
		switch {
		case i >= nBatch:
			kind = Copied
			if k := i - nBatch; k < len(extra) {
				kind = extra[k]
			}
		case i >= len(a.Params):
			kind = Batched
		}
		t, ok := v.(*tensors.Tensor)
		if !ok {
			var err error
			if t, err = tensors.FromAnyValue(v); err != nil {
				return nil, fmt.Errorf("lm: forward argument %d (extra %d): %w", i, i-nBatch, err)
			}
		}
		out[i] = Arg{Value: t, Kind: kind}
	}
	return out, nil
}

// AllBatched is a batchedOut for Devices.Call whose outputs are all
// batch-first (logits, site values): every output is joined.
func AllBatched(int) bool { return true }

