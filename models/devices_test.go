package models

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/internal/testxla"
	"github.com/govene/govene/lm"
)

// allDevices lists every device of a backend with n devices.
func allDevices(n int) []int {
	nums := make([]int, n)
	for i := range nums {
		nums[i] = i
	}
	return nums
}

// TestDevicesOptions checks the devices a model is loaded with: the
// default on the XLA CPU plugin (a host platform: device 0), an explicit
// list honoured as given, and a device out of range refused at load,
// naming the field and the valid range.
func TestDevicesOptions(t *testing.T) {
	xb := testxla.Devices(t)
	n := xb.NumDevices()
	for _, c := range []struct {
		name    string
		devices []int
		want    []int
		err     string
	}{
		{"default on a CPU", nil, []int{0}, ""},
		{"all", allDevices(n), allDevices(n), ""},
		{"picked", []int{2, 1}, []int{2, 1}, ""},
		{"out of range", []int{0, n}, nil, fmt.Sprintf("devices: device %d is out of range: backend xla has %d device(s), numbered 0 to %d", n, n, n-1)},
		{"twice", []int{1, 1}, nil, "devices: device 1 is listed twice"},
	} {
		for _, ckpt := range []string{Shipped, filepath.Join("testdata", "llama")} {
			t.Run(c.name+"/"+filepath.Base(ckpt), func(t *testing.T) {
				m, err := Load(ckpt, Options{Backend: xb, Devices: c.devices})
				if c.err != "" {
					if err == nil || !strings.Contains(err.Error(), c.err) {
						t.Fatalf("Load(devices %v) error = %v, want %q", c.devices, err, c.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := lm.DevicesOf(m).Nums(); !slices.Equal(got, c.want) {
					t.Errorf("Load(devices %v): devices %v, want %v", c.devices, got, c.want)
				}
			})
		}
	}
}

// devicePrompts returns n prompts of different lengths and tokens, all
// ids below vocab.
func devicePrompts(n, vocab int) []lm.Prompt {
	out := make([]lm.Prompt, n)
	for i := range out {
		ids := make([]int, 2+(i*3)%7)
		for j := range ids {
			ids[j] = (17*i + 5*j + 3) % vocab
		}
		out[i] = lm.Prompt{IDs: ids}
	}
	return out
}

// TestDevicesRunMatchesOneDevice runs batches of 1, 3, 5 and 8 prompts of
// different lengths through the shipped GPT-2 and GQA checkpoints (llama,
// gemma2: 4 query heads, 2 key/value heads) on every device of the XLA
// CPU plugin and on device 0 alone, reading the logits and the values at
// sites (a residual, a head site [b,h,s,d], the attention pattern and a
// grouped key). The split results have the one-device batch layout
// exactly; each device's part equals, bit for bit, what device 0 computes
// for that part's batch (its examples, padded with copies of its last
// one, at the whole batch's length); and the joined results equal one
// plain call on device 0 within float rounding (1e-5 of each tensor's
// largest magnitude): XLA's kernels round differently for different batch
// shapes, so one device alone gives an example different low bits in a
// batch of 5 and one of 8. Examples' outputs differ, so the split cannot
// hide a mix-up of examples.
func TestDevicesRunMatchesOneDevice(t *testing.T) {
	xb := testxla.Devices(t)
	k := xb.NumDevices()
	for _, ckpt := range []string{Shipped, filepath.Join("testdata", "llama"), filepath.Join("testdata", "gemma2")} {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			one, err := Load(ckpt, Options{Backend: xb, Devices: []int{0}})
			if err != nil {
				t.Fatal(err)
			}
			all, err := Load(ckpt, Options{Backend: xb, Devices: allDevices(k)})
			if err != nil {
				t.Fatal(err)
			}
			oneRunner := lm.NewRunner(one, one.PadID())
			allRunner := lm.NewRunner(all, all.PadID())
			sites := []lm.Site{
				{Layer: 0, Component: lm.BlockOutput},
				{Layer: 1, Component: lm.HeadResult},
				{Layer: 1, Component: lm.AttentionWeight},
				{Layer: 0, Component: lm.KeyOutput},
			}
			for _, n := range []int{1, 3, 5, 8} {
				prompts := devicePrompts(n, one.Dims().Vocab)
				for _, run := range []struct {
					name string
					f    func(*lm.Runner, []lm.Prompt, ...lm.Site) (*lm.Result, error)
				}{
					{"Run", (*lm.Runner).Run},
					{"RunSites", (*lm.Runner).RunSites},
				} {
					what := fmt.Sprintf("%s batch %d", run.name, n)
					want, err := run.f(oneRunner, prompts, sites...)
					if err != nil {
						t.Fatal(err)
					}
					got, err := run.f(allRunner, prompts, sites...)
					if err != nil {
						t.Fatal(err)
					}
					sameBatch(t, what, got.Batch, want.Batch)
					outs := map[string][2]*tensors.Tensor{}
					if (got.Logits == nil) != (want.Logits == nil) {
						t.Fatalf("%s: logits %v, one device %v", what, got.Logits, want.Logits)
					}
					if want.Logits != nil {
						outs["logits"] = [2]*tensors.Tensor{got.Logits, want.Logits}
					}
					for _, s := range sites {
						if got.Sites[s] == nil || want.Sites[s] == nil {
							t.Fatalf("%s: site %s missing (%v, one device %v)", what, s, got.Sites[s] != nil, want.Sites[s] != nil)
						}
						outs["site "+s.String()] = [2]*tensors.Tensor{got.Sites[s], want.Sites[s]}
					}
					for name, o := range outs {
						if !o[0].Shape().Equal(o[1].Shape()) {
							t.Fatalf("%s %s: shape %s, one device %s", what, name, o[0].Shape(), o[1].Shape())
						}
						g, w := tensors.MustCopyFlatData[float32](o[0]), tensors.MustCopyFlatData[float32](o[1])
						compare(t, what+" "+name, g, w, func(int) bool { return true })
						if n > 1 {
							distinctRows(t, what+" "+name, w, n)
						}
					}
					if run.name == "Run" {
						partsMatch(t, what, oneRunner, prompts, got, sites, k)
					}
				}
			}
		})
	}
}

// partsMatch checks that every part of got, a Run of prompts split across
// k devices, holds bit for bit what device 0 computes for that part's
// batch: the part's prompts padded with copies of its last one to the
// first part's size, at got's batch length.
func partsMatch(t *testing.T, what string, one *lm.Runner, prompts []lm.Prompt, got *lm.Result, sites []lm.Site, k int) {
	t.Helper()
	parts := lm.Chunks(len(prompts), k)
	size := parts[0][1] - parts[0][0]
	for p, lh := range parts {
		part := slices.Clone(prompts[lh[0]:lh[1]])
		for len(part) < size {
			part = append(part, prompts[lh[1]-1])
		}
		b, err := one.NewBatch(part, got.Batch.Len)
		if err != nil {
			t.Fatal(err)
		}
		want, err := one.RunBatch(b, sites...)
		if err != nil {
			t.Fatal(err)
		}
		rows := lh[1] - lh[0]
		sameRows(t, fmt.Sprintf("%s part %d logits", what, p), got.Logits, lh[0], want.Logits, rows)
		for _, s := range sites {
			sameRows(t, fmt.Sprintf("%s part %d site %s", what, p, s), got.Sites[s], lh[0], want.Sites[s], rows)
		}
	}
}

// sameBatch fails t unless two batches have the same layout and tokens.
func sameBatch(t *testing.T, what string, got, want *lm.Batch) {
	t.Helper()
	if got.Size != want.Size || got.Len != want.Len || !slices.Equal(got.Lengths, want.Lengths) ||
		!slices.Equal(got.IDs, want.IDs) || !slices.Equal(got.Mask, want.Mask) || !slices.Equal(got.Positions, want.Positions) {
		t.Errorf("%s: batch %d x %d %v, one device %d x %d %v (or their tokens differ)", what, got.Size, got.Len, got.Lengths, want.Size, want.Len, want.Lengths)
	}
}

// sameRows fails t unless rows [from, from+n) of got's first axis hold the
// same float32 bits as rows [0, n) of want.
func sameRows(t *testing.T, what string, got *tensors.Tensor, from int, want *tensors.Tensor, n int) {
	t.Helper()
	g, w := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](want)
	row := len(g) / got.Shape().Dimensions[0]
	if wr := len(w) / want.Shape().Dimensions[0]; wr != row {
		t.Errorf("%s: %d values per example, the part's own run %d", what, row, wr)
		return
	}
	for i := range n * row {
		if math.Float32bits(g[from*row+i]) != math.Float32bits(w[i]) {
			t.Errorf("%s: value %d of example %d is %g, the part's own run %g", what, i%row, from+i/row, g[from*row+i], w[i])
			return
		}
	}
}

// distinctRows fails t when two of the b examples (rows of the first
// axis) of flat hold the same values.
func distinctRows(t *testing.T, what string, flat []float32, b int) {
	t.Helper()
	row := len(flat) / b
	for i := range b {
		for j := range i {
			if slices.Equal(flat[i*row:(i+1)*row], flat[j*row:(j+1)*row]) {
				t.Errorf("%s: examples %d and %d are equal; the prompts do not tell examples apart", what, j, i)
			}
		}
	}
}
