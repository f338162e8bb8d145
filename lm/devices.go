package lm

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"weak"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Devices is an ordered set of the devices of one backend that a model's
// batched work is split across: each device runs the same compiled graph on
// its own contiguous part of the batch, and the parts are put back together
// in order, so a call returns what one device would, in the same layout.
// Values match one device's bit for bit where the device's kernels round
// the same for the part's batch size as for the whole batch's; XLA's do
// not always (one device alone gives an example different low bits in
// batches of 5 and 8), so they may differ in the last bits, within float
// rounding (tested to 1e-5 of each output's largest magnitude). It is
// safe for concurrent use.
type Devices struct {
	backend compute.Backend
	nums    []compute.DeviceNum

	mu   sync.Mutex
	kept map[weak.Pointer[tensors.Tensor]]*replicas
}

// replicas holds a kept tensor's copies, one per device of the set (nil
// where the tensor itself lives on that device).
type replicas struct {
	on []*tensors.Tensor
}

// All, alone in a device list, stands for every device of the backend
// (ParseDevices gives it for "all"; a job spec's "devices": [-1]).
const All = -1

// NewDevices returns the set of b's devices listed in pick, in that order;
// a nil or empty pick, or []int{All}, means every device of b. It returns an error naming
// the field "devices" for a nil backend, a device number outside
// [0, b.NumDevices()) or one listed twice.
func NewDevices(b compute.Backend, pick []int) (*Devices, error) {
	if b == nil {
		return nil, errors.New("lm: devices: no backend")
	}
	n := b.NumDevices()
	if len(pick) == 0 || (len(pick) == 1 && pick[0] == All) {
		pick = make([]int, n)
		for i := range pick {
			pick[i] = i
		}
	}
	d := &Devices{backend: b, kept: map[weak.Pointer[tensors.Tensor]]*replicas{}}
	for _, p := range pick {
		if p < 0 || p >= n {
			return nil, fmt.Errorf("lm: devices: device %d is out of range: backend %s has %d device(s), numbered 0 to %d", p, b.Name(), n, n-1)
		}
		if slices.Contains(d.nums, compute.DeviceNum(p)) {
			return nil, fmt.Errorf("lm: devices: device %d is listed twice in %v", p, pick)
		}
		d.nums = append(d.nums, compute.DeviceNum(p))
	}
	return d, nil
}

// DevicesUsage is the help of a command line's -devices flag, whose value
// ParseDevices reads.
const DevicesUsage = "the backend's devices to split batches across: all, or device numbers such as 0,1 (default: all, except on a CPU, whose host devices share its cores: device 0)"

// ParseDevices reads a device list as the command line gives it: "" for
// the model's default (nil; see DefaultDevices), "all" for every device of
// the backend ([]int{All}), else comma-separated device numbers ("0,2"). It returns an error naming the value for anything else; the
// numbers are checked against a backend by NewDevices.
func ParseDevices(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return nil, nil
	case "all":
		return []int{All}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("devices %q: %q is not a device number; give \"all\" or device numbers such as 0,1", s, f)
		}
		out = append(out, v)
	}
	return out, nil
}

// Backend returns the backend the devices belong to.
func (d *Devices) Backend() compute.Backend { return d.backend }

// Len returns the number of devices in the set.
func (d *Devices) Len() int { return len(d.nums) }

// Nums returns the device numbers, in the set's order.
func (d *Devices) Nums() []int {
	out := make([]int, len(d.nums))
	for i, n := range d.nums {
		out[i] = int(n)
	}
	return out
}

// String describes the set ("xla devices [0 1 2 3]").
func (d *Devices) String() string { return fmt.Sprintf("%s devices %v", d.backend.Name(), d.Nums()) }

// ArgKind says how Devices.Call hands an argument to each device.
type ArgKind int

const (
	// Batched arguments are split along their first axis, the batch.
	Batched ArgKind = iota
	// Copied arguments go whole to every device, copied at each call
	// (intervention weights, scalars: small values that may change between
	// calls).
	Copied
	// Kept arguments go whole to every device, copied once and kept there
	// for as long as the tensor lives (model parameters). A kept tensor must
	// not change its values afterwards.
	Kept
)

// Arg is one argument of Devices.Call.
type Arg struct {
	Value *tensors.Tensor
	Kind  ArgKind
}

// Chunks returns the parts [lo, hi) Call splits a batch of n into across k
// devices: ceil(n/k) examples each, the last one shorter when k does not
// divide n, and fewer than k parts when n < k. It returns nil for n < 1 or
// k < 1.
func Chunks(n, k int) [][2]int {
	if n < 1 || k < 1 {
		return nil
	}
	size := (n + k - 1) / k
	var out [][2]int
	for lo := 0; lo < n; lo += size {
		out = append(out, [2]int{lo, min(lo+size, n)})
	}
	return out
}

// Call runs e on args split across the devices and returns its outputs, as
// one call of e on one device would: the Batched args are cut into Chunks
// along their first axis, each part runs on its own device (concurrently),
// and every output for which batchedOut(i) is true is put back together
// along its first axis; the other outputs are the first part's. Every part
// has the same shape (a short last part is padded with copies of its last
// example, whose outputs are dropped), so the devices share one compiled
// graph. With one device, or a batch of one, it is a plain call on the first
// device. Batched args must agree on their batch size; a failed call on any
// device returns its error (a panic while e builds or runs is returned as an
// error too).
func (d *Devices) Call(e *graph.Exec, args []Arg, batchedOut func(i int) bool) ([]*tensors.Tensor, error) {
	n := -1
	for i, a := range args {
		if a.Value == nil {
			return nil, fmt.Errorf("lm: devices: argument %d is nil", i)
		}
		if a.Kind != Batched {
			continue
		}
		if a.Value.Rank() == 0 {
			return nil, fmt.Errorf("lm: devices: batched argument %d is a scalar", i)
		}
		b := a.Value.Shape().Dimensions[0]
		if n >= 0 && b != n {
			return nil, fmt.Errorf("lm: devices: batched argument %d has batch %d, argument(s) before it %d", i, b, n)
		}
		n = b
	}
	parts := Chunks(n, len(d.nums))
	if len(parts) <= 1 {
		in := make([]any, len(args))
		for i, a := range args {
			v, err := d.on(0, a)
			if err != nil {
				return nil, err
			}
			in[i] = v
		}
		return d.call(e, 0, in)
	}
	size := parts[0][1] - parts[0][0]
	// Every part's inputs are made before any part runs: a part's call
	// moves its local inputs onto its device.
	ins := make([][]any, len(parts))
	for p, lh := range parts {
		ins[p] = make([]any, len(args))
		for i, a := range args {
			var err error
			if a.Kind == Batched {
				ins[p][i], err = rows(a.Value, lh[0], lh[1], size)
			} else {
				ins[p][i], err = d.on(p, a)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	outs := make([][]*tensors.Tensor, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[p], errs[p] = d.call(e, p, ins[p])
		}()
	}
	wg.Wait()
	for p, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("lm: device %d: %w", d.nums[p], err)
		}
	}
	defer func() {
		for _, o := range outs[1:] {
			for _, t := range o {
				t.FinalizeAll()
			}
		}
	}()
	res := make([]*tensors.Tensor, len(outs[0]))
	for i := range res {
		if !batchedOut(i) {
			res[i] = outs[0][i]
			continue
		}
		t, err := join(outs, i, parts)
		if err != nil {
			return nil, fmt.Errorf("lm: devices: output %d: %w", i, err)
		}
		res[i] = t
		outs[0][i].FinalizeAll()
	}
	return res, nil
}

// call runs e on the p-th device, turning a panic into an error.
func (d *Devices) call(e *graph.Exec, p int, in []any) (outs []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("graph: %v", r)
		}
	}()
	outs, _, err = e.CallWithGraphOnDevice(d.nums[p], in...)
	return outs, err
}

// on returns argument a as the p-th device takes it: the tensor itself when
// it is on that device, or local and that device is the backend's device 0
// (where a plain call would put it); else a copy (made once and kept, for
// a Kept argument). A caller's tensor thus never moves off device 0: a
// tensor has one device copy, and moving it would free a buffer that a
// call on another device may be reading.
func (d *Devices) on(p int, a Arg) (*tensors.Tensor, error) {
	cur, err := a.Value.Device()
	local := err != nil
	if (local && d.nums[p] == 0) || (!local && cur == d.nums[p]) {
		return a.Value, nil
	}
	if a.Kind == Kept {
		return d.keptOn(p, a.Value)
	}
	return a.Value.LocalClone()
}

// keptOn returns t's copy on the p-th device, making it on first use.
func (d *Devices) keptOn(p int, t *tensors.Tensor) (*tensors.Tensor, error) {
	key := weak.Make(t)
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.kept[key]
	if !ok {
		r = &replicas{on: make([]*tensors.Tensor, len(d.nums))}
		d.kept[key] = r
		runtime.AddCleanup(t, func(k weak.Pointer[tensors.Tensor]) {
			d.mu.Lock()
			gone := d.kept[k]
			delete(d.kept, k)
			d.mu.Unlock()
			if gone != nil {
				for _, c := range gone.on {
					if c != nil {
						c.FinalizeAll()
					}
				}
			}
		}, key)
	}
	if r.on[p] == nil {
		c, err := t.OnDeviceClone(d.backend, d.nums[p])
		if err != nil {
			return nil, fmt.Errorf("lm: devices: copy to device %d: %w", d.nums[p], err)
		}
		r.on[p] = c
	}
	return r.on[p], nil
}

// rows returns examples [lo, hi) of t as a new local tensor of size
// examples, padded with copies of example hi-1.
func rows(t *tensors.Tensor, lo, hi, size int) (*tensors.Tensor, error) {
	out := tensors.FromShape(withBatch(t.Shape(), size))
	row := int(t.Shape().ByteSize()) / t.Shape().Dimensions[0]
	var err error
	if e := t.ConstBytes(func(src []byte) {
		err = out.MutableBytes(func(dst []byte) {
			copy(dst, src[lo*row:hi*row])
			for i := hi - lo; i < size; i++ {
				copy(dst[i*row:(i+1)*row], src[(hi-1)*row:hi*row])
			}
		})
	}); e != nil {
		return nil, e
	}
	return out, err
}

// withBatch returns s with its first axis set to n.
func withBatch(s shapes.Shape, n int) shapes.Shape {
	s = s.Clone()
	s.Dimensions[0] = n
	return s
}

// join concatenates output i of every part along the first axis, keeping
// only each part's real examples.
func join(outs [][]*tensors.Tensor, i int, parts [][2]int) (*tensors.Tensor, error) {
	first := outs[0][i]
	if first.Rank() == 0 {
		return nil, errors.New("a scalar cannot be joined along a batch axis")
	}
	size := parts[0][1] - parts[0][0]
	if first.Shape().Dimensions[0] != size {
		return nil, fmt.Errorf("first axis %d is not the part's batch %d", first.Shape().Dimensions[0], size)
	}
	total := parts[len(parts)-1][1]
	out := tensors.FromShape(withBatch(first.Shape(), total))
	row := int(first.Shape().ByteSize()) / size
	var err error
	e := out.MutableBytes(func(dst []byte) {
		for p, lh := range parts {
			t := outs[p][i]
			if !t.Shape().Equal(first.Shape()) {
				err = fmt.Errorf("part %d has shape %s, part 0 %s", p, t.Shape(), first.Shape())
				return
			}
			if e := t.ConstBytes(func(src []byte) {
				copy(dst[lh[0]*row:lh[1]*row], src[:(lh[1]-lh[0])*row])
			}); e != nil {
				err = e
				return
			}
		}
	})
	if e != nil {
		return nil, e
	}
	return out, err
}
