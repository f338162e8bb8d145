package models

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/safetensors"
)

// Tolerance of the family parity tests: |got-want| <= parityRTol*max|want|
// over the tensor's comparable entries, plus parityATol.
const (
	parityRTol = 1e-5
	parityATol = 1e-6
)

// loadFixture loads testdata/<ckpt> through Load, as a user would.
func loadFixture(t *testing.T, ckpt string) Model {
	t.Helper()
	m, err := Load(filepath.Join("testdata", ckpt), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// compare checks got against the reference want of shape, over the
// entries ok says are comparable, and returns the largest difference
// relative to want's largest magnitude.
func compare(t *testing.T, what string, got, want []float32, ok func(i int) bool) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return math.Inf(1)
	}
	var scale, worst float64
	for i, w := range want {
		if ok(i) {
			scale = max(scale, math.Abs(float64(w)))
		}
	}
	at := -1
	for i := range want {
		if !ok(i) {
			continue
		}
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > worst {
			worst, at = d, i
		}
	}
	if worst > parityRTol*scale+parityATol {
		t.Errorf("%s: max |diff| %.3g at %d (got %g, want %g), over %g = 1e-5 x max |want| %.3g", what, worst, at, got[at], want[at], parityRTol*scale+parityATol, scale)
	}
	return worst / max(scale, 1e-30)
}

// TestParityWithTransformers loads every family checkpoint with Load and
// compares the logits and every site of every case (single prompts and a
// left-padded batch) with transformers', within 1e-5 of each tensor's
// largest magnitude.
func TestParityWithTransformers(t *testing.T) {
	for _, ckpt := range familyCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			m := loadFixture(t, ckpt)
			sum := readSummary(t, ckpt)
			if m.Family() != sum.Family {
				t.Errorf("Family() = %q, reference.json says %q", m.Family(), sum.Family)
			}
			f, cases := openReference(t, ckpt)
			names := slices.Sorted(func(yield func(string) bool) {
				for n := range cases {
					if !yield(n) {
						return
					}
				}
			})
			for _, name := range names {
				rc := cases[name]
				var sites []lm.Site
				var refNames []string
				for site := range rc.sites {
					s, ok := parseRefSite(site)
					if !ok || s.Component == lm.Logits {
						continue
					}
					sites = append(sites, s)
					refNames = append(refNames, site)
				}
				if len(sites) < 10 {
					t.Fatalf("case %s: only %d sites in the reference", name, len(sites))
				}
				r, err := m.Run(rc.prompts(), sites...)
				if err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				check := func(what string, got *tensors.Tensor, ref string, attention bool) {
					want, shape := rc.values(t, f, ref)
					g, err := tensors.CopyFlatData[float32](got)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got.Shape().Dimensions, shape) {
						t.Errorf("%s %s: shape %v, want %v", name, what, got.Shape().Dimensions, shape)
						return
					}
					worst = max(worst, compare(t, name+" "+what, g, want, func(i int) bool { return rc.comparable(shape, attention, i) }))
				}
				check("logits", r.Logits, "logits", false)
				for i, s := range sites {
					check(s.String(), r.Sites[s], refNames[i], isAttention(refNames[i]))
				}
				t.Logf("%s: logits and %d sites, worst relative difference %.2g", name, len(sites), worst)
			}
		})
	}
}

// TestGenerationParity checks greedy generation with the KV cache (past
// the sliding windows) against transformers' generate on the left-padded
// batch.
func TestGenerationParity(t *testing.T) {
	for _, ckpt := range familyCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			m := loadFixture(t, ckpt)
			f, cases := openReference(t, ckpt)
			rc := cases["batch"]
			if rc == nil {
				t.Fatal("no batch case")
			}
			want, shape, err := f.Int64(rc.sites["generated"])
			if err != nil {
				t.Fatal(err)
			}
			gen, ok := m.(interface {
				Generate([]lm.Prompt, lm.Sampling, func(int, []int)) ([][]int, error)
			})
			if !ok {
				t.Fatalf("%T has no Generate", m)
			}
			got, err := gen.Generate(rc.prompts(), lm.Sampling{MaxNewTokens: shape[1]}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, row := range got {
				w := make([]int, shape[1])
				for j := range w {
					w[j] = int(want[i*shape[1]+j])
				}
				if !slices.Equal(row, w) {
					t.Errorf("prompt %d: generated %v, transformers %v", i, row, w)
				}
			}
		})
	}
}

// TestInterventionParityWithPyvene replays pyvene 0.1.8's interventions
// (Vanilla, Addition, Collect, head-level with grouped-query key heads) on
// every family and compares the intervened logits and collected values.
func TestInterventionParityWithPyvene(t *testing.T) {
	for _, ckpt := range pvCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			m := loadFixture(t, ckpt)
			cases, ref := readPVCases(t, ckpt)
			for _, c := range cases {
				t.Run(c.Name, func(t *testing.T) { runPVCase(t, m, ref, c) })
			}
		})
	}
}

func runPVCase(t *testing.T, m Model, ref *safetensors.File, c pvCase) {
	typ, err := pv.ParseType(c.InterventionType)
	if err != nil {
		t.Fatal(err)
	}
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{{
		Layer: c.Layer, Component: lm.Component(c.Component), Unit: pv.Unit(c.Unit), InterventionType: typ}}})
	if err != nil {
		t.Fatal(err)
	}
	opts := []pv.Option{}
	if c.Subspace != nil {
		opts = append(opts, pv.Subspaces(c.Subspace...))
	}
	var src [][][]int
	if c.SourceLocations != nil {
		opts = append(opts, pv.SourceBatches(idsPrompts(c.Source)))
	}
	switch c.Unit {
	case "pos":
		if c.SourceLocations != nil {
			src = [][][]int{c.SourceLocations.Positions}
		}
		opts = append(opts, pv.Locations(src, [][][]int{c.BaseLocations.Positions}))
	case "h.pos":
		var sh, sp [][][]int
		if c.SourceLocations != nil {
			sh, sp = [][][]int{c.SourceLocations.Heads}, [][][]int{c.SourceLocations.Positions}
		}
		opts = append(opts, pv.HeadPositions(sh, sp, [][][]int{c.BaseLocations.Heads}, [][][]int{c.BaseLocations.Positions}))
	default:
		t.Fatalf("unit %q", c.Unit)
	}
	out, err := iv.Forward(idsPrompts(c.Base), opts...)
	if err != nil {
		t.Fatal(err)
	}
	all := func(int) bool { return true }
	want, _, err := ref.Float32(c.Intervened)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tensors.CopyFlatData[float32](out.Logits)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "intervened logits", got, want, all)
	orig, _, err := ref.Float32(c.Original)
	if err != nil {
		t.Fatal(err)
	}
	moved := maxAbsDiff(got, orig)
	if typ == pv.Collect {
		if moved > 1e-5 {
			t.Errorf("Collect changed the logits by %g", moved)
		}
	} else if moved < 1e-3 {
		t.Errorf("the intervention moved the logits by only %g: the case proves nothing", moved)
	}
	if c.Collected != "" {
		want, shape, err := ref.Float32(c.Collected)
		if err != nil {
			t.Fatal(err)
		}
		key := iv.Keys()[0]
		col := out.Collected[key]
		if col == nil {
			t.Fatalf("nothing collected under %q", key)
		}
		got, err := tensors.CopyFlatData[float32](col)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("collected shape %v, pyvene's %v", col.Shape().Dimensions, shape)
		}
		compare(t, "collected", got, want, all)
	}
	if c.ReferenceFrom != "pyvene" {
		t.Logf("reference from %s (%s)", c.ReferenceFrom, strings.TrimSpace(fmt.Sprint(c.Pyvene)))
	}
}

func idsPrompts(ids [][]int) []lm.Prompt {
	out := make([]lm.Prompt, len(ids))
	for i, p := range ids {
		out[i] = lm.Prompt{IDs: p}
	}
	return out
}
