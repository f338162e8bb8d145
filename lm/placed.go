package lm

import (
	"fmt"
	"strings"
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

// DefaultDevices returns the devices a model on b splits its batched work
// across when its options list none: every device of b, except on a host
// (CPU) platform, where it is device 0 alone. A CPU's host devices share
// its cores, which one device's computation already uses, and every extra
// device holds its own copy of the weights: on the XLA CPU plugin's 4 host
// devices a batch of 16 or 32 prompts through the shipped model ran no
// faster split 4 ways. A host platform is one whose device 0 describes
// itself as "cpu..." (XLA's CPU plugin) or whose buffers are the host's
// memory (the pure-Go backend). It returns nil for a nil backend.
func DefaultDevices(b compute.Backend) []int {
	if b == nil {
		return nil
	}
	if IsHost(b) {
		return []int{0}
	}
	nums := make([]int, b.NumDevices())
	for i := range nums {
		nums[i] = i
	}
	return nums
}

// IsHost reports whether b computes on the host's CPU: its buffers are
// host memory, or its device 0 describes itself as a CPU ("cpu:0").
func IsHost(b compute.Backend) bool {
	if b == nil {
		return false
	}
	desc := strings.ToLower(strings.TrimSpace(b.DeviceDescription(0)))
	return b.HasSharedBuffers() || strings.HasPrefix(desc, "cpu")
}

// ModelDevices returns the devices a model loaded onto b uses: pick as
// given, or DefaultDevices(b) for a nil or empty pick. It returns
// NewDevices' errors (naming the field "devices", the value and the valid
// range) for a device out of range or listed twice.
func ModelDevices(b compute.Backend, pick []int) (*Devices, error) {
	if b == nil {
		return nil, fmt.Errorf("lm: devices: no backend")
	}
	if len(pick) == 0 {
		pick = DefaultDevices(b)
	}
	return NewDevices(b, pick)
}
