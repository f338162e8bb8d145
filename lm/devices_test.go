package lm_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/govene/govene/backend"
	"github.com/govene/govene/internal/testxla"
	"github.com/govene/govene/lm"
)

func TestChunks(t *testing.T) {
	for _, c := range []struct {
		n, k int
		want [][2]int
	}{
		{0, 4, nil},
		{5, 0, nil},
		{1, 4, [][2]int{{0, 1}}},
		{4, 4, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}}},
		{5, 4, [][2]int{{0, 2}, {2, 4}, {4, 5}}},
		{10, 4, [][2]int{{0, 3}, {3, 6}, {6, 9}, {9, 10}}},
		{7, 1, [][2]int{{0, 7}}},
	} {
		if got := lm.Chunks(c.n, c.k); !slices.Equal(got, c.want) {
			t.Errorf("Chunks(%d, %d) = %v, want %v", c.n, c.k, got, c.want)
		}
	}
}

func TestParseDevices(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		err  string
	}{
		{"", nil, ""},
		{"all", []int{lm.All}, ""},
		{"0,2", []int{0, 2}, ""},
		{" 3 ", []int{3}, ""},
		{"0,x", nil, `"x" is not a device number`},
		{"-1", nil, `"-1" is not a device number`},
	} {
		got, err := lm.ParseDevices(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseDevices(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseDevices(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestNewDevicesErrors(t *testing.T) {
	b, err := backend.For(backend.Workload{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lm.NewDevices(nil, nil); err == nil {
		t.Error("NewDevices(nil) gave no error")
	}
	for _, c := range []struct {
		pick []int
		err  string
	}{
		{[]int{1}, "device 1 is out of range"},
		{[]int{-2}, "device -2 is out of range"},
		{[]int{0, lm.All}, "device -1 is out of range"}, // All only alone
	} {
		if _, err := lm.NewDevices(b, c.pick); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("NewDevices(go, %v) error = %v, want %q", c.pick, err, c.err)
		}
	}
	for _, pick := range [][]int{nil, {lm.All}} {
		d, err := lm.NewDevices(b, pick)
		if err != nil || d.Len() != b.NumDevices() {
			t.Fatalf("NewDevices(go, %v) = %v, %v; want all %d device(s)", pick, d, err, b.NumDevices())
		}
	}
}

// TestDevicesCallMatchesOneDevice splits a graph with a batched input, a
// kept weight and a copied scalar across the plugin's devices and checks
// every batch size gives what one device gives, bit for bit.
func TestDevicesCallMatchesOneDevice(t *testing.T) {
	b := testxla.Devices(t)
	if _, err := lm.NewDevices(b, []int{0, 0}); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("NewDevices([0 0]) error = %v, want \"listed twice\"", err)
	}
	all, err := lm.NewDevices(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	one, err := lm.NewDevices(b, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	e, err := graph.NewExec(b, func(x, w, s *graph.Node) (*graph.Node, *graph.Node) {
		y := graph.Tanh(graph.Add(graph.MatMul(x, w), s))
		return y, graph.ReduceAllSum(w)
	})
	if err != nil {
		t.Fatal(err)
	}
	w := tensors.FromFlatDataAndDimensions([]float32{0.5, -1, 2, 0.25, 1.5, -0.75}, 3, 2)
	s := tensors.FromScalar(float32(0.1))
	batched := func(i int) bool { return i == 0 }
	for n := 1; n <= 9; n++ {
		flat := make([]float32, n*3)
		for i := range flat {
			flat[i] = float32(i%7) * 0.3
		}
		run := func(d *lm.Devices) ([]float32, float32) {
			x := tensors.FromFlatDataAndDimensions(slices.Clone(flat), n, 3)
			outs, err := d.Call(e, []lm.Arg{{Value: x}, {Value: w, Kind: lm.Kept}, {Value: s, Kind: lm.Copied}}, batched)
			if err != nil {
				t.Fatalf("batch %d on %v: %v", n, d, err)
			}
			if got := outs[0].Shape().Dimensions; !slices.Equal(got, []int{n, 2}) {
				t.Fatalf("batch %d on %v: output shape %v, want [%d 2]", n, d, got, n)
			}
			return tensors.MustCopyFlatData[float32](outs[0]), tensors.ToScalar[float32](outs[1])
		}
		y1, s1 := run(one)
		y4, s4 := run(all)
		if !slices.Equal(y1, y4) || s1 != s4 {
			t.Errorf("batch %d: %d devices gave %v (sum %v), one device %v (sum %v)", n, all.Len(), y4, s4, y1, s1)
		}
		if n == 5 && slices.Equal(y1[:2], y1[2:4]) {
			t.Fatalf("batch %d: rows 0 and 1 are equal; the test input does not tell rows apart", n)
		}
	}
	// A set without device 0 runs on copies: the caller's local weight
	// stays where a plain call puts it, not on the set's devices.
	picked, err := lm.NewDevices(b, []int{2, 1})
	if err != nil {
		t.Fatal(err)
	}
	w2 := tensors.FromFlatDataAndDimensions([]float32{0.5, -1, 2, 0.25, 1.5, -0.75}, 3, 2)
	x5 := tensors.FromFlatDataAndDimensions(make([]float32, 15), 5, 3)
	for range 2 {
		if _, err := picked.Call(e, []lm.Arg{{Value: x5}, {Value: w2, Kind: lm.Kept}, {Value: s, Kind: lm.Copied}}, batched); err != nil {
			t.Fatal(err)
		}
		if dev, err := w2.Device(); err == nil && dev != 0 {
			t.Errorf("devices [2 1] moved the kept weight to device %d", dev)
		}
	}
	// A batch whose arguments disagree is refused.
	x := tensors.FromFlatDataAndDimensions(make([]float32, 6), 2, 3)
	x2 := tensors.FromFlatDataAndDimensions(make([]float32, 9), 3, 3)
	if _, err := all.Call(e, []lm.Arg{{Value: x}, {Value: x2}, {Value: s, Kind: lm.Copied}}, batched); err == nil || !strings.Contains(err.Error(), "batch 3") {
		t.Errorf("mismatched batches: error %v, want one naming batch 3", err)
	}
}
