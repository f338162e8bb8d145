package analysis_test

import (
	"math"
	"strings"
	"testing"

	"github.com/govene/govene/analysis"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/shipped"
	"github.com/govene/govene/sweep"
)

var (
	pathClean   = lm.Prompt{IDs: []int{11, 42, 7, 99, 3, 58, 21, 5}}
	pathCorrupt = lm.Prompt{IDs: []int{12, 40, 71, 9, 33, 50, 2, 5}}
)

// cell returns s's value in res (senders in refSenders order).
func cell(res *analysis.PathResult, i int) float64 {
	cols := len(res.Cols)
	return res.Values[i/cols][i%cols]
}

// close reports whether got is within tol of want, relative to
// max(1, |want|).
func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*max(1, math.Abs(want))
}

// TestPathPatchDirectEffect: with the logits receiver and every other
// head and MLP frozen, a sender's path-patched metric is its direct
// effect: the clean run with the change its corrupted output makes added
// to the final residual stream, computed without freezing anything.
func TestPathPatchDirectEffect(t *testing.T) {
	m := loadFixture(t, "../gpt2/testdata/odd")
	metric := sweep.LogitDiff(3, 17)
	for _, chunk := range []int{0, 5} { // one chunk; chunks of 5 with the last one padded
		cfg := analysis.PathConfig{MLPs: true, FreezeMLPs: true, Metric: metric, ChunkSize: chunk}
		res, err := analysis.PathPatch(m, pathClean, pathCorrupt, cfg)
		if err != nil {
			t.Fatal(err)
		}
		moved := 0.0
		for i, s := range refSenders(m.Dims(), []int{0, 1, 2}, true) {
			got, want := cell(res, i), directEffect(t, m, pathClean, pathCorrupt, metric, s)
			if !near(got, want, 1e-5) {
				t.Errorf("chunk %d: sender %+v: path patched %.7g, direct effect %.7g", chunk, s, got, want)
			}
			moved = max(moved, math.Abs(got-res.Clean))
		}
		if moved < 1e-3 {
			t.Errorf("chunk %d: no sender moves the metric from clean %g (largest change %g)", chunk, res.Clean, moved)
		}
	}
}

// TestPathPatchMatchesNaive checks the batched implementation against
// three separate pv forwards per sender, on GPT-2 and a grouped-query
// Llama, and that senders at or above every receiver's layer do nothing.
func TestPathPatchMatchesNaive(t *testing.T) {
	cases := []struct {
		name, dir string
		cfg       analysis.PathConfig
		maxRecv   int // the receivers' highest layer (-1: logits)
	}{
		{"gpt2 logits", "../gpt2/testdata/odd", analysis.PathConfig{MLPs: true}, -1},
		{"gpt2 heads", "../gpt2/testdata/odd", analysis.PathConfig{MLPs: true, ChunkSize: 4, Receivers: []analysis.Receiver{
			analysis.HeadReceiver(2, 1, "q"), analysis.HeadReceiver(2, 0, "k", "v"), analysis.HeadReceiver(1, 2)}}, 2},
		{"gpt2 heads frozen MLPs", "../gpt2/testdata/odd", analysis.PathConfig{FreezeMLPs: true, Layers: []int{1, 0}, Receivers: []analysis.Receiver{
			analysis.HeadReceiver(2, 2, "v")}}, 2},
		{"gpt2 early receiver", "../gpt2/testdata/odd", analysis.PathConfig{MLPs: true, Receivers: []analysis.Receiver{
			analysis.HeadReceiver(1, 0, "q"), analysis.HeadReceiver(1, 0, "v")}}, 1},
		{"llama logits", "../models/testdata/llama", analysis.PathConfig{}, -1},
		{"llama heads", "../models/testdata/llama", analysis.PathConfig{MLPs: true, Receivers: []analysis.Receiver{
			analysis.HeadReceiver(1, 3, "q"), analysis.HeadReceiver(1, 1, "k", "v")}}, 1},
		{"neox heads frozen MLPs", "../models/testdata/neox", analysis.PathConfig{MLPs: true, FreezeMLPs: true, Receivers: []analysis.Receiver{
			analysis.HeadReceiver(1, 0)}}, 1},
		{"gemma2 logits", "../models/testdata/gemma2", analysis.PathConfig{MLPs: true}, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := loadFixture(t, c.dir)
			c.cfg.Metric = sweep.LogitDiff(3, 17)
			res, err := analysis.PathPatch(m, pathClean, pathCorrupt, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			layers := c.cfg.Layers
			if layers == nil {
				layers = []int{0, 1, 2}[:m.Dims().Layers]
			}
			moved := 0.0
			for i, s := range refSenders(m.Dims(), layers, c.cfg.MLPs) {
				got, want := cell(res, i), naivePath(t, m, pathClean, pathCorrupt, c.cfg, s)
				if !near(got, want, 1e-5) {
					t.Errorf("sender %+v: batched %.7g, naive %.7g", s, got, want)
				}
				if c.maxRecv >= 0 && s.layer >= c.maxRecv && !near(got, res.Clean, 1e-5) {
					t.Errorf("sender %+v at or above every receiver: %.7g, want clean %.7g", s, got, res.Clean)
				}
				moved = max(moved, math.Abs(got-res.Clean))
			}
			if moved < 1e-4 {
				t.Errorf("no sender moves the metric from clean %g (largest change %g)", res.Clean, moved)
			}
		})
	}
}

// TestPathPatchIOI path patches the shipped model's indirect-object
// sentence (names swapped for three others in the corrupted one) to the
// logits: some heads of the upper half must matter.
func TestPathPatchIOI(t *testing.T) {
	m, err := shipped.Load(gpt2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clean := m.Encode("John and Mary went to the store. John gave a drink to")
	corrupt := m.Encode("Alice and Bob went to the store. Tom gave a drink to")
	mary, _ := m.Tokenizer().ID(" Mary")
	john, _ := m.Tokenizer().ID(" John")
	res, err := analysis.PathPatch(m, clean, corrupt, analysis.PathConfig{Metric: sweep.LogitDiff(mary, john), Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("logit diff Mary-John: clean %.3f, corrupt %.3f", res.Clean, res.Corrupt)
	if res.Clean <= 0 {
		t.Errorf("clean logit diff %g: the shipped model should prefer Mary", res.Clean)
	}
	top := res.Top(5)
	for _, e := range top {
		t.Logf("%-6s %+.3f", e.Sender, e.Value)
	}
	lo, hi, late := math.Inf(1), math.Inf(-1), 0.0
	for i, row := range res.Values {
		for _, v := range row {
			lo, hi = min(lo, v), max(hi, v)
			if i >= len(res.Rows)/2 {
				late = max(late, math.Abs(v))
			}
		}
	}
	if hi-lo < 0.05 {
		t.Errorf("flat grid [%g, %g]", lo, hi)
	}
	if late < 0.05 {
		t.Errorf("no head of layers %s.. moves the normalized logit difference by 0.05 (largest %g)", res.Rows[len(res.Rows)/2], late)
	}
	if len(top) != 5 || math.Abs(top[0].Value) < math.Abs(top[4].Value) || math.Abs(top[0].Value) != max(-lo, hi) {
		t.Errorf("Top(5) = %+v, not the five largest |values| of [%g, %g]", top, lo, hi)
	}
}

// TestPathConfigErrors: each invalid config or input is an error naming
// the field and the value.
func TestPathConfigErrors(t *testing.T) {
	m := loadFixture(t, "../gpt2/testdata/odd")
	metric := sweep.LogitDiff(3, 17)
	cases := []struct {
		name           string
		clean, corrupt lm.Prompt
		cfg            analysis.PathConfig
		want           string
	}{
		{"no metric", pathClean, pathCorrupt, analysis.PathConfig{}, "metric: nil"},
		{"chunk", pathClean, pathCorrupt, analysis.PathConfig{Metric: metric, ChunkSize: -1}, "chunk_size: -1"},
		{"layer", pathClean, pathCorrupt, analysis.PathConfig{Metric: metric, Layers: []int{3}}, "layers[0]: 3 out of range [0, 3)"},
		{"layer twice", pathClean, pathCorrupt, analysis.PathConfig{Metric: metric, Layers: []int{1, 1}}, "layers[1]: layer 1 given twice"},
		{"logits and head", pathClean, pathCorrupt, analysis.PathConfig{Metric: metric, Receivers: []analysis.Receiver{
			analysis.LogitsReceiver(), analysis.HeadReceiver(1, 0)}}, "must be the only receiver"},
		{"logits with head", pathClean, pathCorrupt, analysis.PathConfig{Metric: metric, Receivers: []analysis.Receiver{
			{Logits: true, Head: 2}}}, "takes no layer, head or inputs"},
		{"receiver layer", pathClean, pathCorrupt, analysis.PathConfig{Metric: metric, Receivers: []analysis.Receiver{
			analysis.HeadReceiver(-1, 0)}}, "receivers[0].layer: -1 out of range [0, 3)"},
		{"receiver head", pathClean, pathCorrupt, analysis.PathConfig{Metric: metric, Receivers: []analysis.Receiver{
			analysis.HeadReceiver(1, 3, "q")}}, "receivers[0].head: 3 out of range [0, 3)"},
		{"receiver input", pathClean, pathCorrupt, analysis.PathConfig{Metric: metric, Receivers: []analysis.Receiver{
			analysis.HeadReceiver(1, 0, "z")}}, `receivers[0].inputs[0]: "z" is not an input; valid: ["q" "k" "v"]`},
		{"receiver twice", pathClean, pathCorrupt, analysis.PathConfig{Metric: metric, Receivers: []analysis.Receiver{
			analysis.HeadReceiver(1, 0, "q"), analysis.HeadReceiver(1, 0)}}, "L1H0.q is already a receiver (receivers[0])"},
		{"lengths", pathClean, lm.Prompt{IDs: []int{1, 2}}, analysis.PathConfig{Metric: metric}, "clean prompt has 8 tokens, corrupt 2"},
		{"empty", lm.Prompt{}, pathCorrupt, analysis.PathConfig{Metric: metric}, "empty prompt"},
		{"token", pathClean, pathCorrupt, analysis.PathConfig{Metric: sweep.LogitDiff(3, 5000)}, "token id 5000 out of range [0, 1000)"},
		{"normalize equal", pathClean, pathClean, analysis.PathConfig{Metric: metric, Normalize: true}, "clean and corrupt metrics are equal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := analysis.PathPatch(m, c.clean, c.corrupt, c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want one containing %q", err, c.want)
			}
		})
	}
	if _, err := analysis.PathPatch(nil, pathClean, pathCorrupt, analysis.PathConfig{Metric: metric}); err == nil {
		t.Error("nil model: no error")
	}
}
