package pv

import (
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/internal/testx"
	"github.com/govene/govene/lm"
)

func tinyConfig() gpt2.Config {
	c := gpt2.DefaultConfig()
	c.NLayer, c.NHead, c.NEmbd, c.VocabSize, c.NPositions = 3, 4, 16, 97, 32
	return c
}

var tinyModel = sync.OnceValues(func() (*gpt2.Model, error) {
	return gpt2.Random(tinyConfig(), 11, gpt2.Options{})
})

// tiny returns tinyModel, or fails t.
var tiny = testx.Must(tinyModel)

// mustNew returns New(m, cfg), or fails t.
func mustNew(t testing.TB, m lm.Model, cfg Config) *Model {
	t.Helper()
	iv, err := New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

func prompt(ids ...int) lm.Prompt { return lm.Prompt{IDs: ids} }

// logitsAt returns example e's logits at prompt position j.
func logitsAt(t *testing.T, x *tensors.Tensor, bb *lm.Batch, e, j int) []float32 {
	t.Helper()
	flat := tensors.MustCopyFlatData[float32](x)
	v := x.Shape().Dimensions[2]
	start := (e*bb.Len + bb.Offset(e) + j) * v
	return flat[start : start+v]
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// Patching the last layer's block output at one position makes the logits
// there the source's, and leaves the other positions alone.
func TestVanillaLastLayerPatch(t *testing.T) {
	m := tiny(t)
	last := m.Config().NLayer - 1
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: last, Component: lm.BlockOutput}}})
	if err != nil {
		t.Fatal(err)
	}
	base, src := prompt(1, 2, 3, 4, 5), prompt(9, 8, 7, 6)
	out, err := iv.Forward([]lm.Prompt{base}, Sources(src), At(3, 4), WithOriginal())
	if err != nil {
		t.Fatal(err)
	}
	srcRun, err := m.Run([]lm.Prompt{src})
	if err != nil {
		t.Fatal(err)
	}
	got := logitsAt(t, out.Logits, out.Base, 0, 4)
	want := logitsAt(t, srcRun.Logits, srcRun.Batch, 0, 3)
	if d := maxDiff(got, want); d > 1e-5 {
		t.Errorf("patched position's logits differ from the source's by %g", d)
	}
	for j := range 4 {
		if d := maxDiff(logitsAt(t, out.Logits, out.Base, 0, j), logitsAt(t, out.Original, out.Base, 0, j)); d != 0 {
			t.Errorf("position %d changed by %g though not patched", j, d)
		}
	}
}

// A sweep over positions reuses one compiled executable.
func TestSweepCompilesOnce(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.BlockOutput}}})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int, 16)
	for i := range ids {
		ids[i] = i + 3
	}
	base, src := prompt(ids...), prompt(ids[1:]...)
	src.IDs = append(src.IDs, 50%97)
	var first int64
	for pos := range 16 {
		if _, err := iv.Forward([]lm.Prompt{base}, Sources(src), At(pos, pos), Subspaces(pos%16)); err != nil {
			t.Fatal(err)
		}
		if pos == 0 {
			first = iv.Compiles()
		}
	}
	if first != 1 || iv.Compiles() != first {
		t.Errorf("compiled %d times for the first call and %d over a 16-position sweep; want 1 and 1", first, iv.Compiles())
	}
}

func TestConfigErrors(t *testing.T) {
	m := tiny(t)
	tests := []struct {
		name string
		r    RepresentationConfig
		want string
	}{
		{"unknown component", RepresentationConfig{Component: "resid_post"}, "component: \"resid_post\" is not a per-layer component"},
		{"layer out of range", RepresentationConfig{Layer: 3}, "layer: 3 out of range [0, 3)"},
		{"bad unit", RepresentationConfig{Unit: "dim"}, "unit: \"dim\" is not valid"},
		{"h on a non-head site", RepresentationConfig{Unit: Head}, "needs a per-head component"},
		{"bad type", RepresentationConfig{InterventionType: "swap"}, "intervention_type: \"swap\" is not valid"},
		{"both type and func", RepresentationConfig{InterventionType: Vanilla, Intervention: func(b, s *graph.Node) *graph.Node { return b }}, "both intervention_type"},
		{"constant of wrong width", RepresentationConfig{InterventionType: Addition, SourceRepresentation: []float32{1, 2}}, "has 2 values; block_output is 16 wide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(m, Config{Representations: []RepresentationConfig{tt.r}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestForwardErrors(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 0}, {Layer: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	base := []lm.Prompt{prompt(1, 2, 3)}
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"position past the prompt", []Option{Sources(prompt(4, 5, 6)), At(0, 3)}, "position 3 out of range [0, 3)"},
		{"source position past the source", []Option{Sources(prompt(4, 5)), At(2, 0)}, "position 2 out of range [0, 2)"},
		{"too many sources", []Option{Sources(prompt(4), prompt(5), prompt(6)), At(0, 0)}, "3 given, the config has 2 source groups"},
		{"no sources", []Option{At(0, 0)}, "0 given"},
		{"duplicate unit", []Option{Sources(prompt(4, 5, 6)), Locations([][][]int{{{1, 1}}}, [][][]int{{{0, 0}}})}, "given twice"},
		{"base only for a vanilla", []Option{Sources(prompt(4, 5, 6)), AtBase(0)}, "needs source units"},
		{"whole site, different lengths", []Option{Sources(prompt(4, 5))}, "same lengths"},
		{"wrong number of interventions", []Option{Sources(prompt(4, 5, 6)), Locations([][][]int{{{0}}, {{0}}, {{0}}}, [][][]int{{{0}}, {{0}}, {{0}}})}, "3 interventions' worth"},
		{"subspace out of range", []Option{Sources(prompt(4, 5, 6)), At(0, 0), Subspaces(16)}, "subspace dimension 16 out of range [0, 16)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := iv.Forward(base, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// Sources from a cached run give the same result as source runs, and a
// Collect intervention returns the site's values at its units.
func TestSourceCacheAndCollect(t *testing.T) {
	m := tiny(t)
	cfg := Config{Representations: []RepresentationConfig{
		{Layer: 0, Component: lm.MLPOutput, MaxNumberOfUnits: 2},
		{Layer: 1, Component: lm.HeadValueOutput, Unit: HeadPos, MaxNumberOfUnits: 2},
		{Layer: 2, Component: lm.BlockOutput, InterventionType: Collect, MaxNumberOfUnits: 2},
	}}
	iv, err := New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	base := []lm.Prompt{prompt(1, 2, 3, 4, 5), prompt(6, 7, 8)}
	src := []lm.Prompt{prompt(9, 10, 11, 12), prompt(13, 14, 15, 16, 17, 18)}
	srcPos := [][][]int{{{0, 3}, {5, 1}}, {{2, 1}, {0, 4}}, {{0, 1}, {0, 1}}}
	basePos := [][][]int{{{4, 1}, {0, 2}}, {{3, 0}, {1, 2}}, {{2, 4}, {1, 0}}}
	heads := [][][]int{nil, {{1, 3}, {0, 2}}, nil}
	loc := HeadPositions(heads, srcPos, heads, basePos)
	a, err := iv.Forward(base, SourceBatches(src), loc)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := m.RunWithCache(src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := iv.Forward(base, SourceCaches(cache), loc)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(tensors.MustCopyFlatData[float32](a.Logits), tensors.MustCopyFlatData[float32](b.Logits)); d != 0 {
		t.Errorf("cached sources differ from source runs by %g", d)
	}
	// Collect at layer 2 = the intervened run's block_output at the base units.
	key := iv.Keys()[2]
	got := tensors.MustCopyFlatData[float32](a.Collected[key])
	if sh := a.Collected[key].Shape().Dimensions; len(sh) != 3 || sh[0] != 2 || sh[1] != 2 || sh[2] != 16 {
		t.Fatalf("collected shape %v, want [2 2 16]", sh)
	}
	// Re-run the same interventions without the collect, reading block_output
	// by a Go-function intervention that records nothing but must see the same.
	plain, err := m.Run(base, lm.Site{Layer: 2, Component: lm.BlockOutput})
	if err != nil {
		t.Fatal(err)
	}
	_ = plain
	if len(got) != 2*2*16 {
		t.Fatalf("collected %d values", len(got))
	}
	// Intervened runs change the logits.
	if d := maxDiff(tensors.MustCopyFlatData[float32](a.Logits), tensors.MustCopyFlatData[float32](plain.Logits)); d == 0 {
		t.Error("interventions changed nothing")
	}
}

// Serial mode chains sources: it equals running the first group on source 1
// with source 0, then the second group on the base with that run.
func TestSerialMode(t *testing.T) {
	m := tiny(t)
	r0 := RepresentationConfig{Layer: 0, Component: lm.BlockOutput}
	r1 := RepresentationConfig{Layer: 2, Component: lm.MLPOutput}
	iv, err := New(m, Config{Mode: Serial, Representations: []RepresentationConfig{r0, r1}})
	if err != nil {
		t.Fatal(err)
	}
	s0, s1, base := prompt(31, 32, 33), prompt(41, 42, 43, 44), prompt(51, 52, 53, 54, 55)
	locs := Locations([][][]int{{{2}}, {{3}}}, [][][]int{{{1}}, {{4}}})
	got, err := iv.Forward([]lm.Prompt{base}, Sources(s0, s1), locs)
	if err != nil {
		t.Fatal(err)
	}
	p0, _ := New(m, Config{Representations: []RepresentationConfig{r0}})
	p1, _ := New(m, Config{Representations: []RepresentationConfig{r1}})
	mid, err := p0.Forward([]lm.Prompt{s1}, Sources(s0), At(2, 1), CaptureSites(lm.Site{Layer: 2, Component: lm.MLPOutput}))
	if err != nil {
		t.Fatal(err)
	}
	want, err := p1.Forward([]lm.Prompt{base}, SourceCaches(mid.Result()), At(3, 4))
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(tensors.MustCopyFlatData[float32](got.Logits), tensors.MustCopyFlatData[float32](want.Logits)); d != 0 {
		t.Errorf("serial differs from the chained parallel runs by %g", d)
	}
	clean, _ := p1.Forward([]lm.Prompt{base}, Sources(s1), At(3, 4))
	if d := maxDiff(tensors.MustCopyFlatData[float32](clean.Logits), tensors.MustCopyFlatData[float32](want.Logits)); d == 0 {
		t.Error("the first group had no effect on the second's source")
	}
	if _, err := iv.Forward([]lm.Prompt{base}, Sources(s0), locs); err == nil || !strings.Contains(err.Error(), "1 given, the config has 2 groups") {
		t.Errorf("one source for two serial groups: %v", err)
	}
}

// Padding batches to length buckets (as on XLA) changes no result.
func TestBucketsChangeNothing(t *testing.T) {
	m := tiny(t)
	cfg := Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.BlockOutput}, {Layer: 2, Component: lm.HeadValueOutput, Unit: HeadPos}}}
	plain, _ := New(m, cfg)
	bucketed, _ := New(m, cfg)
	bucketed.runner.Buckets = lm.DefaultBuckets
	base := []lm.Prompt{prompt(1, 2, 3, 4, 5), prompt(6, 7, 8)}
	src := []lm.Prompt{prompt(9, 10, 11), prompt(12, 13, 14, 15)}
	opts := []Option{SourceBatches(src), HeadPositions([][][]int{nil, {{1}, {2}}}, [][][]int{{{2}, {0}}, {{1}, {3}}}, [][][]int{nil, {{0}, {3}}}, [][][]int{{{4}, {1}}, {{2}, {0}}})}
	a, err := plain.Forward(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bucketed.Forward(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if b.Base.Len != 16 {
		t.Fatalf("bucketed batch length %d, want 16", b.Base.Len)
	}
	for e := range 2 {
		pa, _ := a.NextTokenProbs(e, false)
		pb, _ := b.NextTokenProbs(e, false)
		if d := maxDiff(pa, pb); d > 1e-6 {
			t.Errorf("example %d: bucketed probabilities differ by %g", e, d)
		}
	}
}

// The original logits equal the plain model's, whether Forward reruns its
// own executable with every mask zero (masked built-in kinds) or runs the
// plain model (weighted kinds, Go functions); the interventions move the
// intervened logits.
func TestOriginalIsThePlainModel(t *testing.T) {
	m := tiny(t)
	base, src := []lm.Prompt{prompt(1, 2, 3, 4, 5), prompt(6, 7, 8)}, []lm.Prompt{prompt(9, 10, 11), prompt(12, 13, 14, 15)}
	plain, err := lm.NewRunner(m, 0).Run(base)
	if err != nil {
		t.Fatal(err)
	}
	want, err := copyF32(plain.Logits)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		reps []RepresentationConfig
	}{
		{"vanilla and addition", []RepresentationConfig{{Layer: 1, Component: lm.BlockOutput}, {Layer: 2, Component: lm.MLPOutput, InterventionType: Addition}}},
		{"zero and collect", []RepresentationConfig{{Layer: 0, Component: lm.AttentionOutput, InterventionType: Zero}, {Layer: 1, Component: lm.BlockOutput, InterventionType: Collect}}},
		{"low-rank rotation", []RepresentationConfig{{Layer: 1, Component: lm.BlockOutput, InterventionType: LowRankRotatedSpace, LowRankDimension: 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iv, err := New(m, Config{Representations: tc.reps})
			if err != nil {
				t.Fatal(err)
			}
			out, err := iv.Forward(base, SourceBatches(src), At(2, 2), WithOriginal())
			if err != nil {
				t.Fatal(err)
			}
			got, err := copyF32(out.Original)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(got, want); d > 1e-6 {
				t.Errorf("original logits differ from the plain model's by %g", d)
			}
			patched, err := copyF32(out.Logits)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(patched, want); d < 1e-4 {
				t.Errorf("the interventions moved the logits by only %g", d)
			}
		})
	}
}
