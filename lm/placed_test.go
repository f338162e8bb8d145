package lm_test

import (
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/internal/testxla"
	"github.com/govene/govene/lm"
)

// unplaced is a model that does not say its devices.
type unplaced struct{ lm.Model }

func TestDevicesOf(t *testing.T) {
	cfg := gpt2.DefaultConfig()
	cfg.NLayer, cfg.NHead, cfg.NEmbd, cfg.NPositions, cfg.VocabSize = 1, 2, 8, 8, 16
	gb, err := backend.For(backend.Workload{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := gpt2.Random(cfg, 1, gpt2.Options{Backend: gb})
	if err != nil {
		t.Fatal(err)
	}
	if d := lm.DevicesOf(nil); d != nil {
		t.Errorf("DevicesOf(nil) = %v, want nil", d)
	}
	for _, c := range []struct {
		name string
		m    lm.Model
		want []int
	}{
		{"placed", m, []int{0}},
		{"unplaced", unplaced{m}, []int{0}},
	} {
		d := lm.DevicesOf(c.m)
		if d == nil || !slices.Equal(d.Nums(), c.want) || d.Backend() != gb {
			t.Errorf("DevicesOf(%s) = %v, want %v of %s", c.name, d, c.want, gb.Name())
		}
	}
	if m.Devices() != lm.DevicesOf(m) {
		t.Error("DevicesOf(a placed model) is not the model's own set")
	}
	if _, err := gpt2.Random(cfg, 1, gpt2.Options{Backend: gb, Devices: []int{1}}); err == nil {
		t.Error("gpt2.Random with devices [1] on the one-device go backend gave no error")
	}
	if lm.DefaultDevices(nil) != nil || lm.IsHost(nil) {
		t.Error("DefaultDevices(nil) or IsHost(nil) is not empty")
	}
	if !lm.IsHost(gb) || !slices.Equal(lm.DefaultDevices(gb), []int{0}) {
		t.Errorf("go backend: IsHost %v, DefaultDevices %v; want true, [0]", lm.IsHost(gb), lm.DefaultDevices(gb))
	}
}

// The XLA CPU plugin is a host platform: models on it use device 0 unless
// told otherwise.
func TestDefaultDevicesOnCPU(t *testing.T) {
	xb := testxla.Devices(t)
	if !lm.IsHost(xb) || !slices.Equal(lm.DefaultDevices(xb), []int{0}) {
		t.Errorf("XLA CPU (%s): IsHost %v, DefaultDevices %v; want true, [0]", xb.DeviceDescription(0), lm.IsHost(xb), lm.DefaultDevices(xb))
	}
	d, err := lm.ModelDevices(xb, []int{3, 0})
	if err != nil || !slices.Equal(d.Nums(), []int{3, 0}) {
		t.Errorf("ModelDevices(xla, [3 0]) = %v, %v; want the devices as given", d, err)
	}
}

func TestForwardArgsArgs(t *testing.T) {
	p := tensors.FromFlatDataAndDimensions([]float32{1, 2}, 2)
	b, err := lm.NewBatch([]lm.Prompt{{IDs: []int{1, 2}}, {IDs: []int{3}}}, 0, 0, 8)
	if err != nil {
		t.Fatal(err)
	}
	extra := []any{tensors.FromScalar(float32(1)), tensors.FromFlatDataAndDimensions([]float32{1, 2}, 2, 1), float32(3)}
	args, err := lm.ForwardArgs{Params: []*tensors.Tensor{p, p}, Batch: b, Extra: extra}.Args(lm.Copied, lm.Batched)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []lm.ArgKind
	for _, a := range args {
		kinds = append(kinds, a.Kind)
	}
	want := []lm.ArgKind{lm.Kept, lm.Kept, lm.Batched, lm.Batched, lm.Batched, lm.Copied, lm.Batched, lm.Copied}
	if !slices.Equal(kinds, want) {
		t.Errorf("Args kinds = %v, want %v", kinds, want)
	}
	if got := args[2].Value.Shape().Dimensions; !slices.Equal(got, []int{2, 2}) {
		t.Errorf("ids shape %v, want [2 2]", got)
	}
	if tensors.ToScalar[float32](args[7].Value) != 3 {
		t.Errorf("extra float32 3 became %v", args[7].Value)
	}
	if _, err := (lm.ForwardArgs{Batch: b, Extra: []any{struct{}{}}}).Args(); err == nil {
		t.Error("an extra that is no tensor value gave no error")
	}
}
