package models

import (
	"io"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/sweep"
	"github.com/govene/govene/train"
)

// The features tests run what govene offers on GPT-2 on every family's
// checkpoint: the cache of every site, every location form, sweeps
// (resumed from cached activations and plain, which must agree), DAS
// training with save and load, and generation with an intervention.

var (
	featBase   = []lm.Prompt{{IDs: []int{11, 42, 7, 99, 3, 58, 21, 5}}, {IDs: []int{8, 16, 23, 4, 77}}}
	featSource = []lm.Prompt{{IDs: []int{12, 40, 71, 9, 33, 50, 2, 6}}, {IDs: []int{18, 6, 3, 74, 70}}}
)

func flat(t *testing.T, x *tensors.Tensor) []float32 {
	t.Helper()
	v, err := tensors.CopyFlatData[float32](x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRunWithCacheEverySite runs every site a family has at once, and
// checks that the absent ones are refused by name.
func TestRunWithCacheEverySite(t *testing.T) {
	for _, ckpt := range familyCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			m := loadFixture(t, ckpt)
			sites := lm.AllSites(m.Dims())
			r, err := m.Run(featBase, sites...)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Sites) != len(sites) {
				t.Fatalf("%d sites returned, want %d", len(r.Sites), len(sites))
			}
			for _, c := range m.Dims().Absent {
				s := lm.Site{Layer: 0, Component: c}
				if c.IsGlobal() {
					s.Layer = -1
				}
				if slices.Contains(sites, s) {
					t.Errorf("AllSites lists absent %s", s)
				}
				if _, err := m.Run(featBase, s); err == nil {
					t.Errorf("Run at absent %s: no error", s)
				}
			}
		})
	}
}

// TestLocationForms intervenes with every unit form (positions, whole
// heads, heads at positions) and checks each moves the logits.
func TestLocationForms(t *testing.T) {
	cases := []struct {
		name string
		rep  pv.RepresentationConfig
		opts []pv.Option
	}{
		{"pos", pv.RepresentationConfig{Layer: 1, Component: lm.BlockOutput, Unit: pv.Pos}, []pv.Option{pv.At(2, 3)}},
		{"pos subspace", pv.RepresentationConfig{Layer: 0, Component: lm.MLPOutput, Unit: pv.Pos}, []pv.Option{pv.At(1, 4), pv.Subspaces(0, 1, 2, 3)}},
		{"h", pv.RepresentationConfig{Layer: 0, Component: lm.HeadAttentionValueOutput, Unit: pv.Head}, []pv.Option{pv.Locations([][][]int{{{1}, {0}}}, [][][]int{{{1}, {0}}})}},
		{"h.pos kv head", pv.RepresentationConfig{Layer: 1, Component: lm.HeadValueOutput, Unit: pv.HeadPos},
			[]pv.Option{pv.HeadPositions([][][]int{{{0}, {1}}}, [][][]int{{{1}, {2}}}, [][][]int{{{1}, {0}}}, [][][]int{{{1}, {2}}})}},
	}
	for _, ckpt := range familyCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			m := loadFixture(t, ckpt)
			plain, err := m.Run(featBase)
			if err != nil {
				t.Fatal(err)
			}
			before := flat(t, plain.Logits)
			for _, c := range cases {
				iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{c.rep}})
				if err != nil {
					t.Fatal(err)
				}
				out, err := iv.Forward(featBase, append([]pv.Option{pv.SourceBatches(featSource)}, c.opts...)...)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if d := maxAbsDiff(flat(t, out.Logits), before); !(d > 1e-4) {
					t.Errorf("%s: the intervention moved the logits by %g", c.name, d)
				}
			}
		})
	}
}

// TestSweepsResumedEqualPlain sweeps layers x positions and layers x
// heads on every family, resumed from cached activations and plainly
// through pv, and checks both give the same grid (and that the grid is
// not flat).
func TestSweepsResumedEqualPlain(t *testing.T) {
	cfgs := []sweep.Config{
		{Component: lm.BlockOutput, Unit: pv.Pos},
		{Component: lm.AttentionOutput, Unit: pv.Pos, Window: 2},
		{Component: lm.HeadAttentionValueOutput, Unit: pv.Head},
	}
	for _, ckpt := range familyCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			m := loadFixture(t, ckpt)
			base, source := featBase[0], featSource[0]
			for _, cfg := range cfgs {
				cfg.Metric = sweep.TokenProb(17)
				resumed, err := sweep.New(m).Patch(base, source, cfg)
				if err != nil {
					t.Fatalf("%s: %v", cfg.Component, err)
				}
				plain, err := sweep.New(m, sweep.Resume(false)).Patch(base, source, cfg)
				if err != nil {
					t.Fatalf("%s plain: %v", cfg.Component, err)
				}
				lo, hi := math.Inf(1), math.Inf(-1)
				for i := range plain.Values {
					for j, v := range plain.Values[i] {
						if d := math.Abs(v - resumed.Values[i][j]); d > 1e-5*max(math.Abs(v), 1e-3) {
							t.Errorf("%s cell %d,%d: resumed %g, plain %g", cfg.Component, i, j, resumed.Values[i][j], v)
						}
						lo, hi = min(lo, v), max(hi, v)
					}
				}
				if !(hi-lo > 1e-6) {
					t.Errorf("%s: flat grid [%g, %g]: the sweep shows nothing", cfg.Component, lo, hi)
				}
			}
		})
	}
}

// TestDASSaveLoadGenerate trains a low-rank rotation a few steps on every
// family, saves and loads it (same logits), and generates with it.
func TestDASSaveLoadGenerate(t *testing.T) {
	for _, ckpt := range append([]string{"../../gpt2/testdata/odd"}, familyCheckpoints...) {
		t.Run(ckpt, func(t *testing.T) {
			m := loadFixture(t, ckpt)
			iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{{
				Layer: 1, Component: lm.BlockOutput, InterventionType: pv.LowRankRotatedSpace, LowRankDimension: 2}}})
			if err != nil {
				t.Fatal(err)
			}
			var data []pv.Example
			for i := range 8 {
				data = append(data, pv.Example{Base: featBase[i%2], Sources: []lm.Prompt{featSource[(i+1)%2]}, Label: 3 + i})
			}
			rep, err := iv.Train(data, nil, pv.TrainConfig{Steps: 3, BatchSize: 4, Adam: train.Adam{LR: 0.05}, Progress: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Steps != 3 || len(rep.Losses) == 0 || math.IsNaN(rep.Losses[len(rep.Losses)-1]) {
				t.Fatalf("report %+v", rep)
			}
			dir := filepath.Join(t.TempDir(), "das")
			if err := iv.Save(dir); err != nil {
				t.Fatal(err)
			}
			back, err := pv.Load(dir, m)
			if err != nil {
				t.Fatal(err)
			}
			a, err := iv.Forward(featBase, pv.SourceBatches(featSource))
			if err != nil {
				t.Fatal(err)
			}
			b, err := back.Forward(featBase, pv.SourceBatches(featSource))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(flat(t, a.Logits), flat(t, b.Logits)) {
				t.Error("the loaded intervention gives other logits")
			}
			g, err := back.Generate(featBase, pv.GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 5}, InterveneOnPrompt: true},
				pv.SourceBatches(featSource), pv.At(1, 2), pv.WithOriginal())
			if err != nil {
				t.Fatal(err)
			}
			gen, _ := m.(interface {
				Generate([]lm.Prompt, lm.Sampling, func(int, []int)) ([][]int, error)
			})
			want, err := gen.Generate(featBase, lm.Sampling{MaxNewTokens: 5}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if !slices.Equal(g.OriginalNewTokens[i], want[i]) {
					t.Errorf("prompt %d: original generation %v, the model's %v", i, g.OriginalNewTokens[i], want[i])
				}
				if len(g.NewTokens[i]) != 5 {
					t.Errorf("prompt %d: %d new tokens, want 5", i, len(g.NewTokens[i]))
				}
			}
		})
	}
}
