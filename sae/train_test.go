package sae

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/causal"
	"github.com/govene/govene/llama"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/shipped"
	"github.com/govene/govene/shipped/facts"
	"github.com/govene/govene/train"
)

var (
	shippedOnce   sync.Once
	shippedModel  *gpt2.Model
	shippedErr    error
	shippedPrompt []lm.Prompt
)

// shippedData loads the shipped model once and returns it with ~200 short
// prompts built from the facts it was taught.
func shippedData(t testing.TB) (*gpt2.Model, []lm.Prompt) {
	t.Helper()
	shippedOnce.Do(func() {
		shippedModel, shippedErr = shipped.Load(gpt2.Options{})
		if shippedErr != nil {
			return
		}
		var texts []string
		for _, f := range facts.Landmarks {
			texts = append(texts, f.Name+" is in the city of "+f.City, f.Name+" is a famous place")
		}
		for _, c := range facts.Countries {
			texts = append(texts, fmt.Sprintf("The capital of %s is %s", c.Country, c.Capital),
				fmt.Sprintf("%s is the capital of %s", c.Capital, c.Country))
			if c.Language != "" {
				texts = append(texts, fmt.Sprintf("People in %s speak %s", c.Country, c.Language))
			}
		}
		for i, n := range facts.Names {
			texts = append(texts, fmt.Sprintf("%s felt %s today", n, facts.HappyWords[i%len(facts.HappyWords)]),
				fmt.Sprintf("%s was %s all day", n, facts.SadWords[i%len(facts.SadWords)]))
		}
		for _, s := range texts {
			shippedPrompt = append(shippedPrompt, shippedModel.Encode(s))
		}
	})
	if shippedErr != nil {
		t.Fatal(shippedErr)
	}
	return shippedModel, shippedPrompt
}

var block4 = lm.Site{Layer: 4, Component: lm.BlockOutput}

// nonzero counts the nonzero values of row i of rows of n values.
func nonzero(f []float32, i, n int) int {
	c := 0
	for _, v := range f[i*n : (i+1)*n] {
		if v != 0 {
			c++
		}
	}
	return c
}

// explainedVariance is 1 - sum |x - y|^2 / sum |x - mean x|^2 over rows of d.
func explainedVariance(x, y []float32, d int) float64 {
	rows := len(x) / d
	mean := make([]float64, d)
	for i, v := range x {
		mean[i%d] += float64(v) / float64(rows)
	}
	var errSum, varSum float64
	for i, v := range x {
		e, c := float64(v-y[i]), float64(v)-mean[i%d]
		errSum, varSum = errSum+e*e, varSum+c*c
	}
	return 1 - errSum/varSum
}

// TestTrainShipped trains each architecture on the shipped model's block 4
// residual stream and checks SAELens' metrics: explained variance above
// what was measured with a margin (standard 0.86, topk 0.97, jumprelu 0.99
// at 300 steps), L0 well below d_sae (topk: exactly k), a falling loss,
// and that the exported SAE, saved and loaded back, reconstructs the raw
// activations on the host as well as training measured.
func TestTrainShipped(t *testing.T) {
	m, prompts := shippedData(t)
	raw, err := collectActivations(m, block4, prompts, 32, true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		cfg    TrainConfig
		minEV  float64
		maxL0  float64
		exactK int
	}{
		{"standard", TrainConfig{Architecture: ArchStandard, L1Coefficient: 5, Steps: 300}, 0.75, 16, 0},
		{"topk", TrainConfig{Architecture: ArchTopK, K: 16, Steps: 200}, 0.9, 16, 16},
		{"jumprelu", TrainConfig{Architecture: ArchJumpReLU, L0Coefficient: 0.1, Steps: 300}, 0.9, 48, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.DSAE, cfg.BatchSize, cfg.SkipFirstToken, cfg.Seed = 256, 512, true, 1
			cfg.NormalizeActivations = NormExpectedAverage
			cfg.Adam.LR = 4e-3
			cfg.Progress = io.Discard
			s, rep, err := Train(m, block4, prompts, cfg)
			if err != nil {
				t.Fatal(err)
			}
			fin := rep.Final
			t.Logf("%s: %d tokens, scale %.4g, final EV %.4f L0 %.2f MSE %.4g, first logged loss %.4g, %v",
				tc.name, rep.Tokens, rep.ScalingFactor, fin.ExplainedVariance, fin.L0, fin.MSELoss, rep.Logs[0].Loss, rep.Duration)
			if s.HookName != "blocks.4.hook_resid_post" || s.DIn != 128 || s.DSAE != 256 || s.Architecture != tc.name {
				t.Errorf("config %+v; want hook blocks.4.hook_resid_post, d_in 128, d_sae 256, architecture %s", s.Config, tc.name)
			}
			if rep.Tokens != raw.rows {
				t.Errorf("trained on %d tokens; the prompts have %d after the first", rep.Tokens, raw.rows)
			}
			if fin.ExplainedVariance < tc.minEV {
				t.Errorf("explained variance %.4f < %.2f", fin.ExplainedVariance, tc.minEV)
			}
			if fin.L0 > tc.maxL0 || fin.L0 < 1 {
				t.Errorf("L0 %.2f outside [1, %g]", fin.L0, tc.maxL0)
			}
			n := len(rep.Logs)
			if n != 100 || rep.Logs[n-1].Step != cfg.Steps {
				t.Errorf("%d logs ending at step %d; want 100 ending at %d", n, rep.Logs[n-1].Step, cfg.Steps)
			}
			early, late := rep.Logs[0].Loss, rep.Logs[n-1].Loss
			if !(late < early/2) {
				t.Errorf("loss went from %.4g to %.4g; want it to fall at least 2x", early, late)
			}
			dir := t.TempDir()
			if err := s.Save(dir); err != nil {
				t.Fatal(err)
			}
			back, err := Load(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if back.HookName != s.HookName || back.Architecture != s.Architecture || back.NormalizeActivations != NormNone || back.K != s.K {
				t.Errorf("loaded config %+v; saved %+v", back.Config, s.Config)
			}
			y, err := back.Reconstruct(raw.data)
			if err != nil {
				t.Fatal(err)
			}
			if ev := explainedVariance(raw.data, y, raw.d); math.Abs(ev-fin.ExplainedVariance) > 0.01 {
				t.Errorf("the loaded SAE explains %.4f of the raw activations' variance; training measured %.4f", ev, fin.ExplainedVariance)
			}
			if tc.exactK > 0 {
				f, err := back.Encode(raw.data)
				if err != nil {
					t.Fatal(err)
				}
				for i := range raw.rows {
					if c := nonzero(f, i, s.DSAE); c > tc.exactK {
						t.Fatalf("row %d has %d active features; k is %d", i, c, tc.exactK)
					}
				}
				for i := range s.DSAE { // the decoder norms are folded into the encoder, as SAELens saves topk SAEs
					norm := 0.0
					for _, v := range s.WDec[i*s.DIn : (i+1)*s.DIn] {
						norm += float64(v) * float64(v)
					}
					if math.Abs(math.Sqrt(norm)-1) > 1e-4 {
						t.Fatalf("W_dec row %d has norm %.6f; want 1", i, math.Sqrt(norm))
					}
				}
				if math.Abs(fin.L0-float64(tc.exactK)) > 0.01 {
					t.Errorf("topk training L0 %.4f; want exactly %d", fin.L0, tc.exactK)
				}
			}
		})
	}
}

// tinyLlama is a small random Llama (d=32) and prompts for it.
func tinyLlama(t testing.TB) (lm.Model, []lm.Prompt) {
	t.Helper()
	cfg := llama.DefaultConfig("llama")
	cfg.VocabSize, cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHiddenLayers = 100, 32, 64, 2
	cfg.NumAttentionHeads, cfg.NumKeyValueHeads = 4, 2
	m, err := llama.Random(cfg, 1, causal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var prompts []lm.Prompt
	for i := range 40 {
		ids := make([]int, 3+i%5)
		for j := range ids {
			ids[j] = (i*7 + j*13) % 100
		}
		prompts = append(prompts, lm.Prompt{IDs: ids})
	}
	return m, prompts
}

// TestTrainFamily trains each architecture briefly on a family model (a
// tiny random Llama) at block_input and at mlp_output.
func TestTrainFamily(t *testing.T) {
	m, prompts := tinyLlama(t)
	tests := []struct {
		arch string
		site lm.Site
		hook string
	}{
		{ArchStandard, lm.Site{Layer: 1, Component: lm.BlockInput}, "blocks.1.hook_resid_pre"},
		{ArchTopK, lm.Site{Layer: 0, Component: lm.MLPOutput}, "blocks.0.hook_mlp_out"},
		{ArchJumpReLU, lm.Site{Layer: 1, Component: lm.BlockOutput}, "blocks.1.hook_resid_post"},
	}
	for _, tc := range tests {
		t.Run(tc.arch, func(t *testing.T) {
			s, rep, err := Train(m, tc.site, prompts, TrainConfig{Architecture: tc.arch, DSAE: 64, K: 8, Steps: 30, BatchSize: 64,
				NormalizeActivations: NormExpectedAverage, Progress: io.Discard, Adam: train.Adam{LR: 1e-2}})
			if err != nil {
				t.Fatal(err)
			}
			if s.HookName != tc.hook || s.DIn != 32 || len(s.WEnc) != 32*64 || len(s.WDec) != 64*32 || len(s.BEnc) != 64 || len(s.BDec) != 32 {
				t.Fatalf("hook %q d_in %d, weights %d %d %d %d; want %q, 32, 2048 2048 64 32",
					s.HookName, s.DIn, len(s.WEnc), len(s.WDec), len(s.BEnc), len(s.BDec), tc.hook)
			}
			if (tc.arch == ArchJumpReLU) != (len(s.Threshold) == 64) || (tc.arch == ArchTopK) != (s.K == 8) {
				t.Errorf("threshold %d values, k %d for %s", len(s.Threshold), s.K, tc.arch)
			}
			if err := s.Check(); err != nil {
				t.Error(err)
			}
			if first, last := rep.Logs[0].MSELoss, rep.Final.MSELoss; !(last < first) || math.IsNaN(last) {
				t.Errorf("MSE %g -> %g; want it to fall", first, last)
			}
		})
	}
}

// TestTrainDeterministic checks that a seed fixes the SAE and another seed
// changes it.
func TestTrainDeterministic(t *testing.T) {
	m, prompts := tinyLlama(t)
	site := lm.Site{Layer: 1, Component: lm.BlockOutput}
	run := func(seed uint64) *SAE {
		s, _, err := Train(m, site, prompts, TrainConfig{DSAE: 64, Steps: 10, BatchSize: 32, Seed: seed, Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, c := run(3), run(3), run(4)
	if !slices.Equal(a.WEnc, b.WEnc) || !slices.Equal(a.WDec, b.WDec) || !slices.Equal(a.BEnc, b.BEnc) || !slices.Equal(a.BDec, b.BDec) {
		t.Error("the same seed gave different SAEs")
	}
	if slices.Equal(a.WDec, c.WDec) {
		t.Error("seeds 3 and 4 gave the same W_dec")
	}
}

// TestTrainAuxLoss checks the topk aux-k loss: with a short dead-feature
// window many features die and the aux loss is positive; turned off, it is
// zero.
func TestTrainAuxLoss(t *testing.T) {
	m, prompts := tinyLlama(t)
	site := lm.Site{Layer: 1, Component: lm.BlockOutput}
	for _, tc := range []struct {
		coef    float64
		wantAux bool
	}{{0, true}, {-1, false}} {
		_, rep, err := Train(m, site, prompts, TrainConfig{Architecture: ArchTopK, DSAE: 128, K: 2, Steps: 12, BatchSize: 16,
			DeadFeatureWindow: 2, AuxLossCoefficient: tc.coef, LogEvery: 1, Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		dead, aux := 0, 0.0
		for _, l := range rep.Logs {
			dead, aux = max(dead, l.DeadFeatures), max(aux, l.AuxLoss)
		}
		if dead == 0 {
			t.Errorf("coef %g: no dead features after %d steps", tc.coef, len(rep.Logs))
		}
		if (aux > 0) != tc.wantAux {
			t.Errorf("coef %g: largest aux loss %g; want positive: %v", tc.coef, aux, tc.wantAux)
		}
	}
}

// TestTrainProgressAndReport checks the progress output and the report's
// JSON names.
func TestTrainProgressAndReport(t *testing.T) {
	m, prompts := tinyLlama(t)
	var buf bytes.Buffer
	var logged []TrainLog
	_, rep, err := Train(m, lm.Site{Layer: 0, Component: lm.BlockOutput}, prompts, TrainConfig{DSAE: 32, Steps: 8, BatchSize: 16,
		LogEvery: 4, Progress: &buf, OnLog: func(l TrainLog) { logged = append(logged, l) }})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "SAE") {
		t.Errorf("progress output %q does not name the SAE", buf.String())
	}
	if len(logged) != 2 || logged[1].Step != 8 || len(rep.Logs) != 2 {
		t.Errorf("OnLog got %+v, report %d logs; want steps 4 and 8", logged, len(rep.Logs))
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"mse_loss"`, `"l0"`, `"explained_variance"`, `"hook_name":"blocks.0.hook_resid_post"`, `"architecture":"standard"`, `"final"`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("report JSON lacks %s: %s", key, js)
		}
	}
}

// TestTrainErrors checks that bad input is an error naming the problem.
func TestTrainErrors(t *testing.T) {
	m, prompts := tinyLlama(t)
	site := lm.Site{Layer: 0, Component: lm.BlockOutput}
	tests := []struct {
		name    string
		site    lm.Site
		prompts []lm.Prompt
		cfg     TrainConfig
		want    string
	}{
		{"no prompts", site, nil, TrainConfig{}, "no prompts"},
		{"architecture", site, prompts, TrainConfig{Architecture: "gated"}, `architecture "gated"`},
		{"normalisation", site, prompts, TrainConfig{NormalizeActivations: "layer_norm"}, `normalize_activations "layer_norm"`},
		{"steps", site, prompts, TrainConfig{Steps: -1}, "steps -1"},
		{"l1", site, prompts, TrainConfig{L1Coefficient: math.NaN()}, "l1_coefficient NaN"},
		{"k", site, prompts, TrainConfig{Architecture: ArchTopK, DSAE: 16, K: 17}, "k 17 must be at most d_sae 16"},
		{"adam", site, prompts, TrainConfig{Adam: train.Adam{Beta1: 1}}, "beta1"},
		{"unmapped site", lm.Site{Layer: 0, Component: lm.AttentionWeight}, prompts, TrainConfig{}, "supported hooks"},
		{"layer", lm.Site{Layer: 9, Component: lm.BlockOutput}, prompts, TrainConfig{}, "layer"},
		{"token", site, []lm.Prompt{{IDs: []int{1000}}}, TrainConfig{}, "out of range"},
		{"empty", site, []lm.Prompt{{IDs: []int{1}}}, TrainConfig{SkipFirstToken: true}, "no activations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Progress = io.Discard
			_, _, err := Train(m, tc.site, tc.prompts, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one containing %q", err, tc.want)
			}
		})
	}
}

// TestHookNameFor checks govene sites against TransformerLens hook names
// both ways.
func TestHookNameFor(t *testing.T) {
	tests := []struct {
		site lm.Site
		want string
	}{
		{lm.Site{Layer: 4, Component: lm.BlockOutput}, "blocks.4.hook_resid_post"},
		{lm.Site{Layer: 0, Component: lm.BlockInput}, "blocks.0.hook_resid_pre"},
		{lm.Site{Layer: 2, Component: lm.ResidMid}, "blocks.2.hook_resid_mid"},
		{lm.Site{Layer: 3, Component: lm.AttentionOutput}, "blocks.3.hook_attn_out"},
		{lm.Site{Layer: 3, Component: lm.MLPOutput}, "blocks.3.hook_mlp_out"},
		{lm.Site{Layer: 1, Component: lm.AttentionValueOutput}, "blocks.1.attn.hook_z"},
		{lm.Site{Layer: 1, Component: lm.MLPPost}, "blocks.1.mlp.hook_post"},
		{lm.Site{Layer: -1, Component: lm.Embed}, "hook_embed"},
		{lm.Site{Layer: 1, Component: lm.QueryOutput}, ""},
		{lm.Site{Layer: -1, Component: lm.LNFinal}, ""},
	}
	for _, tc := range tests {
		got, err := hookNameFor(tc.site)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: got %q; want an error", tc.site, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.site, got, err, tc.want)
			continue
		}
		if back, err := HookSite(got); err != nil || back != tc.site {
			t.Errorf("HookSite(%q) = %v, %v; want %v", got, back, err, tc.site)
		}
	}
}

// TestStraightThrough checks the JumpReLU and Step estimators against
// SAELens' backward formulas: d/dthr sum(jumprelu(x, thr)) is
// -(thr/bw) * #{|x - thr| < bw/2}, d/dx is (x > thr); d/dthr sum(step(x,
// thr)) is -(1/bw) * #{|x - thr| < bw/2} and nothing reaches x.
func TestStraightThrough(t *testing.T) {
	b, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	const bw = 0.05
	x := []float32{0.1, 0.48, 0.52, 0.9, 0.47, 0.2} // [3, 2]; thr per column 0.5, 0.2
	thr := []float32{0.5, 0.2}
	for _, tc := range []struct {
		name     string
		fn       func(x, thr *graph.Node) *graph.Node
		value    []float32
		dThr, dX []float32
	}{
		{"jumprelu", func(x, thr *graph.Node) *graph.Node { return jumpReLU(x, thr, bw) },
			[]float32{0, 0.48, 0.52, 0.9, 0, 0},
			// one value per column lies within bw/2 of its threshold (0.52 and 0.2)
			[]float32{-0.5 / bw * 1, -0.2 / bw * 1}, []float32{0, 1, 1, 1, 0, 0}},
		{"step", func(x, thr *graph.Node) *graph.Node { return step(x, thr, bw) },
			[]float32{0, 1, 1, 1, 0, 0},
			[]float32{-1 / bw * 1, -1 / bw * 1}, []float32{0, 0, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := graph.NewExec(b, func(x, thr *graph.Node) []*graph.Node {
				y := tc.fn(x, rows(thr, x))
				g := graph.Gradient(graph.ReduceAllSum(y), x, thr)
				return []*graph.Node{y, g[0], g[1]}
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Call(tensors.FromFlatDataAndDimensions(x, 3, 2), tensors.FromFlatDataAndDimensions(thr, 2))
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range [][]float32{tc.value, tc.dX, tc.dThr} {
				got := tensors.MustCopyFlatData[float32](out[[]int{0, 1, 2}[i]])
				for j := range want {
					if math.Abs(float64(got[j]-want[j])) > 1e-4 {
						t.Errorf("output %d: %v; want %v", i, got, want)
						break
					}
				}
			}
		})
	}
}

// TestTopKMask checks the bisection top-k on rows with negative values,
// near ties and k equal to the width.
func TestTopKMask(t *testing.T) {
	b, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		row  []float32
		k    int
		want []float32
	}{
		{[]float32{-3, -1, -2, -5}, 2, []float32{0, 1, 1, 0}},
		{[]float32{1, 1.0000001, 0.9999999, 0}, 1, []float32{0, 1, 0, 0}},
		{[]float32{1, 1.0000001, 0.9999999, 0}, 3, []float32{1, 1, 1, 0}},
		{[]float32{100, -100, 0.001, 0.002}, 4, []float32{1, 1, 1, 1}},
		{[]float32{5, 4, 3, 2}, 1, []float32{1, 0, 0, 0}},
	}
	for _, tc := range tests {
		e, err := graph.NewExec(b, func(x *graph.Node) *graph.Node {
			return topKMask(x, graph.Scalar(x.Graph(), dtypes.Float32, tc.k))
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Call(tensors.FromFlatDataAndDimensions(tc.row, 1, len(tc.row)))
		if err != nil {
			t.Fatal(err)
		}
		if got := tensors.MustCopyFlatData[float32](out[0]); !slices.Equal(got, tc.want) {
			t.Errorf("top %d of %v: %v; want %v", tc.k, tc.row, got, tc.want)
		}
	}
}

// TestTrainWarmUp checks the sparsity coefficient's linear warm-up
// (SAELens' CoefficientScheduler: 0 on the first step, the full value from
// step warm_up+1) and that a JumpReLU threshold never goes negative.
func TestTrainWarmUp(t *testing.T) {
	m, prompts := tinyLlama(t)
	site := lm.Site{Layer: 1, Component: lm.BlockOutput}
	for _, arch := range []string{ArchStandard, ArchJumpReLU} {
		s, rep, err := Train(m, site, prompts, TrainConfig{Architecture: arch, DSAE: 32, Steps: 6, BatchSize: 32, LogEvery: 1,
			L1WarmUpSteps: 4, L0WarmUpSteps: 4, JumpReLUBandwidth: 0.5, NormalizeActivations: NormExpectedAverage,
			Adam: train.Adam{LR: 1e-3}, Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		// Steps 2 and 5 use 1/4 and all of the coefficient; the penalty
		// itself moves little at this learning rate.
		if l := rep.Logs; l[0].SparsityLoss != 0 || !(l[1].SparsityLoss > 0) || math.Abs(l[4].SparsityLoss/l[1].SparsityLoss-4) > 1 {
			t.Errorf("%s: sparsity losses %g, %g ... %g; want 0 on the first step, then rising 4x by step 5", arch, l[0].SparsityLoss, l[1].SparsityLoss, l[4].SparsityLoss)
		}
		for i, v := range s.Threshold {
			if v < 0 {
				t.Errorf("%s: threshold %d is %g", arch, i, v)
			}
		}
	}
}
