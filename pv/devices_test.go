package pv

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/internal/testx"
	"github.com/govene/govene/internal/testxla"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
)

// deviceModels are the checkpoints the multi-device tests load: the
// shipped GPT-2 and a random Qwen2 with grouped-query attention.
var deviceModels = []string{models.Shipped, "../models/testdata/qwen2"}

// devicePair loads checkpoint name onto the XLA CPU plugin twice: split
// across every device, and on device 0 alone.
func devicePair(t *testing.T, name string) (all, one lm.Model) {
	t.Helper()
	b := testxla.Devices(t)
	all, one = testxla.Pair(t, b, func(b compute.Backend, devs []int) (lm.Model, error) {
		return models.Load(name, models.Options{Backend: b, Devices: devs})
	})
	if n := lm.DevicesOf(all).Len(); n != b.NumDevices() || n < 2 {
		t.Fatalf("%s: every device of %d gave %d device(s)", name, b.NumDevices(), n)
	}
	if n := lm.DevicesOf(one).Len(); n != 1 {
		t.Fatalf("%s: Devices [0] gave %d device(s)", name, n)
	}
	return all, one
}

// xlaTol is how far apart the tests let a split batch's values be from
// one device's: |a-b| <= xlaTol·(1+|b|). XLA's CPU kernels round
// differently for different batch sizes: on one device, the same 5
// prompts run as a batch of 10 moved block outputs by up to 2e-5 and
// logits by 8e-6 (absolute; values of order 1 to 10), and splitting moves
// them as much, not more. A misplaced example or weight moves them by
// order 1.
const xlaTol = 1e-4

// closeTensors fails t unless a and b have the same shape and values
// within tol (see xlaTol); tol 0 asks for the same values bit for bit.
func closeTensors(t *testing.T, what string, a, b *tensors.Tensor, tol float64) {
	t.Helper()
	if a == nil || b == nil {
		t.Fatalf("%s: missing (%v, %v)", what, a, b)
	}
	if !a.Shape().Equal(b.Shape()) {
		t.Fatalf("%s: shapes %s and %s", what, a.Shape(), b.Shape())
	}
	x, y := tensors.MustCopyFlatData[float32](a), tensors.MustCopyFlatData[float32](b)
	worst, at := 0.0, -1
	for i := range x {
		if math.Float32bits(x[i]) == math.Float32bits(y[i]) {
			continue
		}
		d := math.Abs(float64(x[i])-float64(y[i])) / (1 + math.Abs(float64(y[i])))
		if tol == 0 || !(d <= tol) {
			t.Fatalf("%s: value %d of %d is %v on every device, %v on one (tolerance %g)", what, i, len(x), x[i], y[i], tol)
		}
		if d > worst {
			worst, at = d, i
		}
	}
	if at >= 0 {
		t.Logf("%s: largest difference %.3g at value %d (%v, %v)", what, worst, at, x[at], y[at])
	}
}

// mixedPrompts returns n prompts with ids below vocab, made from seed: of
// 3 to 7 tokens, or all of length tokens when length > 0.
func mixedPrompts(n, vocab, seed, length int) []lm.Prompt {
	out := make([]lm.Prompt, n)
	for e := range out {
		size := length
		if size <= 0 {
			size = 3 + (e*3+seed)%5
		}
		ids := make([]int, size)
		for j := range ids {
			ids[j] = (seed*131 + e*37 + j*17 + 5) % vocab
		}
		out[e] = lm.Prompt{IDs: ids}
	}
	return out
}

// forwardOpts are TestDevicesForward's options for bases and sources: the
// interchange (intervention 0) from each source's last position into its
// base's last, the collect (intervention 1) at each base's first and last
// positions, the captured sites and the original logits.
func forwardOpts(bases, sources []lm.Prompt, capture []lm.Site) []Option {
	n := len(bases)
	src, base, coll := make([][]int, n), make([][]int, n), make([][]int, n)
	for e := range n {
		src[e], base[e] = []int{sources[e].Len() - 1}, []int{bases[e].Len() - 1}
		coll[e] = []int{0, bases[e].Len() - 1}
	}
	return []Option{SourceBatches(sources), Locations([][][]int{src, nil}, [][][]int{base, coll}),
		CaptureSites(capture...), WithOriginal()}
}

// outputsOf lists a forward's outputs by name: the logits, the original
// logits, what key collected and the captured sites.
func outputsOf(o *Output, key string, capture []lm.Site) map[string]*tensors.Tensor {
	out := map[string]*tensors.Tensor{"logits": o.Logits, "original": o.Original, "collected": o.Collected[key]}
	for _, s := range capture {
		out[s.String()] = o.Sites[s]
	}
	return out
}

// joinRows concatenates the first take[p] examples of each ts[p].
func joinRows(ts []*tensors.Tensor, take []int) *tensors.Tensor {
	var flat []float32
	dims := slices.Clone(ts[0].Shape().Dimensions)
	dims[0] = 0
	for p, t := range ts {
		v := tensors.MustCopyFlatData[float32](t)
		flat = append(flat, v[:take[p]*len(v)/t.Shape().Dimensions[0]]...)
		dims[0] += take[p]
	}
	return tensors.FromFlatDataAndDimensions(flat, dims...)
}

// TestDevicesForward runs Forward with a vanilla interchange, a collect
// intervention, captured sites and the original logits over batches of 1,
// 3, 5 and 8 prompts of different lengths, on every device of the XLA CPU
// plugin and on one, and checks every output is batch-first and the same
// (within xlaTol; bit for bit for one prompt, which is not split), and that
// the interchange moves the logits. For prompts of one length, it checks
// the split outputs are bit for bit those of one device running each
// device's part (padded as lm.Devices.Call pads it) as a batch of its own.
// Each batch compiles at most one graph: the one compiled ahead while the
// sources run has the parts' shapes.
func TestDevicesForward(t *testing.T) {
	for _, name := range deviceModels {
		t.Run(name, func(t *testing.T) {
			all, one := devicePair(t, name)
			cfg := Config{Representations: []RepresentationConfig{
				{Layer: 1, Component: lm.BlockOutput, InterventionType: Vanilla},
				{Layer: 0, Component: lm.MLPOutput, InterventionType: Collect},
			}}
			ivAll, ivOne := mustNew(t, all, cfg), mustNew(t, one, cfg)
			key := ivOne.Keys()[1]
			capture := []lm.Site{{Layer: 0, Component: lm.BlockOutput}, {Layer: 1, Component: lm.AttentionWeight}}
			vocab, k := one.Dims().Vocab, lm.DevicesOf(all).Len()
			for _, n := range []int{1, 3, 5, 8} {
				bases, sources := mixedPrompts(n, vocab, 1, 0), mixedPrompts(n, vocab, 2, 0)
				before := ivAll.Compiles()
				a, err := ivAll.Forward(bases, forwardOpts(bases, sources, capture)...)
				if err != nil {
					t.Fatalf("batch %d, every device: %v", n, err)
				}
				// The graph compiled while the sources ran is the one each
				// device's part runs: no second compilation.
				if c := ivAll.Compiles() - before; c > 1 {
					t.Errorf("batch %d: %d graphs compiled, want at most 1", n, c)
				}
				o, err := ivOne.Forward(bases, forwardOpts(bases, sources, capture)...)
				if err != nil {
					t.Fatalf("batch %d, one device: %v", n, err)
				}
				tol := xlaTol
				if n == 1 {
					tol = 0
				}
				outA := outputsOf(a, key, capture)
				for what, want := range outputsOf(o, key, capture) {
					closeTensors(t, fmt.Sprintf("batch %d: %s", n, what), outA[what], want, tol)
					if d := want.Shape().Dimensions[0]; d != n {
						t.Errorf("batch %d: %s has %d examples", n, what, d)
					}
				}
				if c := o.Collected[key].Shape().Dimensions; !slices.Equal(c, []int{n, 2, one.Dims().Hidden}) {
					t.Errorf("batch %d: collected shape %v, want [%d 2 %d]", n, c, n, one.Dims().Hidden)
				}
				moved := 0
				for e := range n {
					x, _ := o.LastLogits(e, false)
					y, _ := o.LastLogits(e, true)
					if !slices.Equal(x, y) {
						moved++
					}
				}
				if moved == 0 {
					t.Errorf("batch %d: the interchange left every example's logits as they were", n)
				}
			}
			for _, n := range []int{5, 8} {
				bases, sources := mixedPrompts(n, vocab, 3, 6), mixedPrompts(n, vocab, 4, 6)
				a, err := ivAll.Forward(bases, forwardOpts(bases, sources, capture)...)
				if err != nil {
					t.Fatalf("batch %d of one length, every device: %v", n, err)
				}
				parts := map[string][]*tensors.Tensor{}
				var take []int
				for _, lh := range lm.Chunks(n, k) {
					size := lm.Chunks(n, k)[0][1]
					pb, ps := slices.Clone(bases[lh[0]:lh[1]]), slices.Clone(sources[lh[0]:lh[1]])
					for len(pb) < size {
						pb, ps = append(pb, bases[lh[1]-1]), append(ps, sources[lh[1]-1])
					}
					o, err := ivOne.Forward(pb, forwardOpts(pb, ps, capture)...)
					if err != nil {
						t.Fatalf("batch %d, part %v on one device: %v", n, lh, err)
					}
					for what, v := range outputsOf(o, key, capture) {
						parts[what] = append(parts[what], v)
					}
					take = append(take, lh[1]-lh[0])
				}
				outA := outputsOf(a, key, capture)
				for what, ps := range parts {
					closeTensors(t, fmt.Sprintf("batch %d of one length: %s", n, what), outA[what], joinRows(ps, take), 0)
				}
			}
		})
	}
}

// TestDevicesIIA checks IIA with a rotated-space intervention (weights
// and a temperature copied to each device) over 10 examples in batches of
// 3, 4 and 32 gives on every device what it gives on one: the
// last-position logits (within xlaTol), and the accuracy, with labels
// chosen so that it is exactly one half.
func TestDevicesIIA(t *testing.T) {
	all, one := devicePair(t, models.Shipped)
	cfg := Config{Representations: []RepresentationConfig{
		{Layer: 3, Component: lm.BlockOutput, InterventionType: LowRankRotatedSpace, LowRankDimension: 4}}}
	ivAll, ivOne := mustNew(t, all, cfg), mustNew(t, one, cfg)
	vocab := one.Dims().Vocab
	bases, sources := mixedPrompts(10, vocab, 5, 0), mixedPrompts(10, vocab, 6, 0)
	examples := make([]Example, len(bases))
	for e := range examples {
		examples[e] = Example{Base: bases[e], Sources: []lm.Prompt{sources[e]}}
	}
	last := func(iv *Model) *tensors.Tensor {
		c, bb, err := iv.exampleCall(examples)
		if err != nil {
			t.Fatal(err)
		}
		c.lastOnly = true
		out, err := iv.Forward(bb, func(dst *call) error { *dst = *c; return nil })
		if err != nil {
			t.Fatal(err)
		}
		return out.Logits
	}
	lo := last(ivOne)
	closeTensors(t, "last logits", last(ivAll), lo, xlaTol)
	flat := tensors.MustCopyFlatData[float32](lo)
	for e := range examples {
		best := lm.Argmax(flat[e*vocab : (e+1)*vocab])
		examples[e].Label = best
		if e%2 == 1 {
			examples[e].Label = (best + 1) % vocab
		}
	}
	for _, bs := range []int{3, 4, 0} {
		a, err := ivAll.IIA(examples, bs)
		if err != nil {
			t.Fatal(err)
		}
		o, err := ivOne.IIA(examples, bs)
		if err != nil {
			t.Fatal(err)
		}
		if a != o || o != 0.5 {
			t.Errorf("batch size %d: IIA %v on every device, %v on one; want 0.5 on both", bs, a, o)
		}
	}
}

// TestPartShapes checks the shapes precompile compiles: a Batched
// argument's first axis cut to the first part's batch on the XLA CPU
// plugin's devices, and whole for one device or none; other arguments
// whole.
func TestPartShapes(t *testing.T) {
	b := testxla.Devices(t)
	var sets [2]*lm.Devices // every device, device 0
	for i, pick := range [][]int{nil, {0}} {
		var err error
		if sets[i], err = lm.NewDevices(b, pick); err != nil {
			t.Fatal(err)
		}
	}
	every, first := sets[0], sets[1]
	k := every.Len()
	for _, c := range []struct {
		d    *lm.Devices
		n    int
		want int
	}{
		{nil, 5, 5}, {first, 5, 5}, {every, 1, 1},
		{every, k + 1, 2}, {every, 2*k - 1, 2}, {every, 3 * k, 3},
	} {
		args := []lm.Arg{
			{Value: tensors.FromShape(shapeOf([]int{7, 3})), Kind: lm.Kept},
			{Value: tensors.FromShape(shapeOf([]int{c.n, 4}))},
			{Value: tensors.FromScalar(float32(1)), Kind: lm.Copied},
			{Value: tensors.FromShape(shapeOf([]int{c.n, 2, 5}))},
		}
		got := partShapes(c.d, args)
		want := [][]int{{7, 3}, {c.want, 4}, nil, {c.want, 2, 5}}
		for i := range args {
			if !slices.Equal(got[i].Dimensions, want[i]) && len(got[i].Dimensions)+len(want[i]) > 0 {
				t.Errorf("%v, batch %d: argument %d has part shape %v, want %v", c.d, c.n, i, got[i].Dimensions, want[i])
			}
		}
	}
}

// TestDevicesConcurrent runs Forward on a model split across the XLA CPU
// plugin's devices from several goroutines at once and checks each gets
// what it gets alone, bit for bit (the same batch, so the same parts).
func TestDevicesConcurrent(t *testing.T) {
	all, _ := devicePair(t, models.Shipped)
	iv := mustNew(t, all, Config{Representations: []RepresentationConfig{
		{Layer: 2, Component: lm.BlockOutput, InterventionType: Vanilla}}})
	vocab := all.Dims().Vocab
	serial, concurrent := testx.SerialThenParallel(t, 4, func(i int) (*tensors.Tensor, error) {
		bases, sources := mixedPrompts(5, vocab, 10+i, 0), mixedPrompts(5, vocab, 20+i, 0)
		out, err := iv.Forward(bases, SourceBatches(sources), LastLogitsOnly())
		if err != nil {
			return nil, err
		}
		return out.Logits, nil
	})
	for i := range serial {
		closeTensors(t, fmt.Sprintf("goroutine %d", i), concurrent[i], serial[i], 0)
	}
}
