package sweep

import (
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/shipped"
)

// Each cell of a batched sweep equals the single intervened run it stands
// for.
func TestSweepMatchesSingleRuns(t *testing.T) {
	m, err := trainedModel()
	if err != nil {
		t.Fatal(err)
	}
	sw := New(m)
	base, src := m.Encode("The Colosseum is in the city of"), m.Encode("The Eiffel Tower is in the city of")
	n := min(base.Len(), src.Len())
	base.IDs, src.IDs = base.IDs[len(base.IDs)-n:], src.IDs[len(src.IDs)-n:]
	paris, _ := m.TokenID(" Paris")
	metric := TokenProb(paris)
	res, err := sw.Patch(base, src, Config{Component: lm.BlockOutput, Metric: metric, ChunkSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	L := m.Dims().Layers
	if len(res.Values) != L || len(res.Values[0]) != n {
		t.Fatalf("grid %dx%d, want %dx%d", len(res.Values), len(res.Values[0]), L, n)
	}
	spread := 0.0
	for l := range L {
		iv, _ := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{{Layer: l, Component: lm.BlockOutput}}})
		for p := range n {
			out, err := iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.At(p, p))
			if err != nil {
				t.Fatal(err)
			}
			probs, _ := out.NextTokenProbs(0, false)
			if d := math.Abs(float64(probs[paris]) - res.Values[l][p]); d > 1e-5 {
				t.Errorf("layer %d pos %d: sweep %g, single run %g", l, p, res.Values[l][p], probs[paris])
			}
			spread = math.Max(spread, math.Abs(res.Values[l][p]-res.Base))
		}
	}
	if spread < 0.05 {
		t.Errorf("no patch moved P(Paris) by 0.05 (max %g): the comparison cannot tell sweeps apart", spread)
	}
	// The plain path (every setting through the whole model) agrees.
	plain := New(m, Resume(false))
	ref, err := plain.Patch(base, src, Config{Component: lm.BlockOutput, Metric: metric, ChunkSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	compareGrids(t, "patch", res, ref)
	before := plain.ivs[sweepKey(t, plain)].Compiles()
	if _, err := plain.Patch(src, base, Config{Component: lm.MLPOutput, Metric: metric, ChunkSize: 4}); err != nil {
		t.Fatal(err)
	}
	if after := plain.ivs[sweepKey(t, plain)].Compiles(); after != before {
		t.Errorf("a second sweep of the same shapes compiled again (%d -> %d)", before, after)
	}
}

func sweepKey(t *testing.T, sw *Sweeper) string {
	for k := range sw.ivs {
		return k
	}
	t.Fatal("no sweep model")
	return ""
}

// compareGrids checks two sweep results agree to float32 rounding
// (relative to the value for metrics in logits, such as LogitDiff).
func compareGrids(t *testing.T, what string, got, want *Result) {
	t.Helper()
	near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }
	if !near(got.Base, want.Base, 1e-6) || !near(got.Source, want.Source, 1e-6) {
		t.Errorf("%s: base %g / %g, source %g / %g", what, got.Base, want.Base, got.Source, want.Source)
	}
	for r := range want.Values {
		for c := range want.Values[r] {
			if !near(got.Values[r][c], want.Values[r][c], 1e-5) {
				t.Errorf("%s: cell (%d, %d): resumed %g, plain %g", what, r, c, got.Values[r][c], want.Values[r][c])
			}
		}
	}
}

// Causal tracing: restoring the clean block output at the last layer and
// last position recovers the clean score exactly; a window restores several
// layers at once.
func TestTrace(t *testing.T) {
	m := tiny(t)
	sw := New(m)
	p := prompt(3, 14, 15, 92, 65, 35)
	target := 7
	res, err := sw.Trace(p, Corruption{Positions: []int{1, 2}, Level: 3, Seed: 1}, Config{Metric: TokenProb(target)})
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(res.Values[2][5] - res.Source); d > 1e-6 {
		t.Errorf("restoring the last block output at the last token: %g, clean %g", res.Values[2][5], res.Source)
	}
	if res.Base == res.Source {
		t.Error("corruption did not change the score")
	}
	// Positions before the corruption cannot carry its effect: restoring
	// them changes nothing.
	if d := math.Abs(res.Values[1][0] - res.Base); d > 1e-6 {
		t.Errorf("restoring position 0 (before the subject) changed the score: %g vs corrupted %g", res.Values[1][0], res.Base)
	}
	win, err := sw.Trace(p, Corruption{Positions: []int{1, 2}, Level: 3, Seed: 1}, Config{Component: lm.MLPOutput, Window: 3, Metric: TokenProb(target)})
	if err != nil {
		t.Fatal(err)
	}
	plain := New(m, Resume(false))
	for _, cfg := range []Config{{Metric: TokenProb(target)}, {Component: lm.MLPOutput, Window: 3, Metric: TokenProb(target)}, {Component: lm.AttentionOutput, Window: 2, Metric: TokenProb(target)}} {
		a, err := sw.Trace(p, Corruption{Positions: []int{1, 2}, Level: 3, Seed: 1}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := plain.Trace(p, Corruption{Positions: []int{1, 2}, Level: 3, Seed: 1}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		compareGrids(t, "trace "+string(cfg.Component), a, b)
	}
	if len(win.Values) != 3 || win.Base != res.Base {
		t.Errorf("window trace: %d rows, base %g vs %g", len(win.Values), win.Base, res.Base)
	}
	// Heads: layers x heads at the last position.
	heads, err := sw.Patch(p, prompt(9, 8, 7, 6, 5, 4), Config{Component: lm.HeadAttentionValueOutput, Unit: pv.HeadPos, Metric: TokenProb(target)})
	if err != nil {
		t.Fatal(err)
	}
	if len(heads.Values) != 3 || len(heads.Values[0]) != 4 || heads.Cols[3] != "h3" {
		t.Errorf("head grid %dx%d cols %v", len(heads.Values), len(heads.Values[0]), heads.Cols)
	}
	headsPlain, err := plain.Patch(p, prompt(9, 8, 7, 6, 5, 4), Config{Component: lm.HeadAttentionValueOutput, Unit: pv.HeadPos, Metric: TokenProb(target)})
	if err != nil {
		t.Fatal(err)
	}
	compareGrids(t, "heads", heads, headsPlain)
}

// TestResumedSweepCompilesPerShapeNotPerLayer: a resumed trace compiles one
// block graph per window and chunk shape, whatever the starting layer, and
// a second trace of a prompt of the same length compiles nothing.
func TestResumedSweepCompilesPerShapeNotPerLayer(t *testing.T) {
	m := tiny(t)
	var counts []int64
	for _, layers := range [][]int{{0}, {0, 1, 2}} {
		sw := New(m)
		cfg := Config{Layers: layers, Metric: TokenProb(7)}
		if _, err := sw.Trace(prompt(3, 14, 15, 92, 65, 35), Corruption{Positions: []int{1, 2}, Level: 3, Seed: 1}, cfg); err != nil {
			t.Fatal(err)
		}
		first := sw.Compiles()
		// embed, the run block, the head at two shapes, and the sweep block at
		// most once per (window, chunk) shape: windows 1, 2, 4, 6 here.
		if first > 4+2*4 {
			t.Errorf("layers %v: the first trace compiled %d graphs, want at most 12", layers, first)
		}
		if _, err := sw.Trace(prompt(9, 8, 7, 6, 5, 4), Corruption{Positions: []int{1, 2}, Level: 3, Seed: 2}, cfg); err != nil {
			t.Fatal(err)
		}
		if again := sw.Compiles() - first; again != 0 {
			t.Errorf("layers %v: a second trace of the same length compiled %d graphs", layers, again)
		}
		t.Logf("layers %v: %d graphs", layers, first)
		counts = append(counts, first)
	}
	if counts[0] != counts[1] {
		t.Errorf("sweeping 1 layer compiled %d graphs, 3 layers %d: want the same", counts[0], counts[1])
	}
}

// TestSweepMemoryBudget: a tiny MaxBytes runs one setting per batch, on
// the resumed and the plain path, with the same grid.
func TestSweepMemoryBudget(t *testing.T) {
	m := tiny(t)
	base, src := prompt(5, 6, 7, 8, 9), prompt(15, 16, 17, 18, 19)
	for _, resume := range []bool{true, false} {
		sw := New(m, Resume(resume))
		ref, err := sw.Patch(base, src, Config{Metric: TokenProb(42)})
		if err != nil {
			t.Fatal(err)
		}
		var steps []int
		last := 0
		got, err := sw.Patch(base, src, Config{Metric: TokenProb(42), MaxBytes: 1, OnProgress: func(done, total int) {
			if done > last { // the plain path also reports 0 at the start
				steps = append(steps, done-last)
			}
			last = done
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) != 15 || slices.Max(steps) != 1 {
			t.Errorf("resume %v: batches of %v settings under a 1-byte budget, want 15 of 1", resume, steps)
		}
		compareGrids(t, "budget", got, ref)
	}
	if n := chunkSize(Config{ChunkSize: 32, MaxBytes: 1 << 30}, lm.Dims{Hidden: 768, Inner: 3072, Heads: 12, Vocab: 50257}, 1024, 1024); n != 7 {
		t.Errorf("GPT-2 small, 1024 tokens, 1 GiB: chunk of %d settings, want 7", n)
	}
}

// trainedModel is the shipped GPT-2 (trained, so patches move its
// predictions a lot: the random tiny model's barely move, which would let
// a wrong sweep pass a comparison).
var trainedModel = sync.OnceValues(func() (*gpt2.Model, error) { return shipped.Load(gpt2.Options{}) })

// TestResumedSweepsEqualPlain compares resumed sweeps with the plain path
// (every setting through the whole model) on the trained model, for every
// sweep form: patching positions at block_output, mlp_output and
// attention_output with windows, causal tracing, and heads at one and at
// several positions.
func TestResumedSweepsEqualPlain(t *testing.T) {
	m, err := trainedModel()
	if err != nil {
		t.Fatal(err)
	}
	base, src := m.Encode("The Colosseum is in the city of"), m.Encode("The Eiffel Tower is in the city of")
	n := min(base.Len(), src.Len())
	base.IDs, src.IDs = base.IDs[len(base.IDs)-n:], src.IDs[len(src.IDs)-n:]
	paris, _ := m.TokenID(" Paris")
	rome, _ := m.TokenID(" Rome")
	resumed, plain := New(m), New(m, Resume(false))
	corrupt := Corruption{Positions: []int{1, 2, 3, 4}, Level: 0.5, Seed: 1} // the whole subject, " Colosseum"
	for _, c := range []struct {
		name  string
		trace bool
		cfg   Config
	}{
		{"patch block_output", false, Config{Metric: TokenProb(paris)}},
		{"patch mlp_output window 3", false, Config{Component: lm.MLPOutput, Window: 3, Metric: LogitDiff(paris, rome)}},
		{"patch attention_output window 2", false, Config{Component: lm.AttentionOutput, Window: 2, Metric: TokenProb(paris)}},
		{"trace block_output", true, Config{Metric: TokenProb(rome)}},
		{"trace mlp_output window 3", true, Config{Component: lm.MLPOutput, Window: 3, Metric: TokenProb(rome)}},
		{"heads at the last position", false, Config{Component: lm.HeadAttentionValueOutput, Unit: pv.HeadPos, Metric: LogitDiff(paris, rome)}},
		{"heads at three positions", false, Config{Component: lm.HeadAttentionValueOutput, Unit: pv.HeadPos, Positions: []int{2, 3, n - 1}, Metric: LogitDiff(paris, rome)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(sw *Sweeper) *Result {
				var r *Result
				var err error
				if c.trace {
					r, err = sw.Trace(base, corrupt, c.cfg)
				} else {
					r, err = sw.Patch(base, src, c.cfg)
				}
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			got, want := run(resumed), run(plain)
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, row := range want.Values {
				lo, hi = math.Min(lo, slices.Min(row)), math.Max(hi, slices.Max(row))
			}
			if hi-lo < 0.05 {
				t.Fatalf("the grid spans only %g: too flat to tell sweeps apart", hi-lo)
			}
			compareGrids(t, c.name, got, want)
		})
	}
}
