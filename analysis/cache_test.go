package analysis_test

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/govene/govene/analysis"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
)

// lensCheckpoints are the models the cache, lens and DLA tests run on:
// GPT-2's odd checkpoint and every family fixture.
var lensCheckpoints = []string{
	filepath.Join("..", "gpt2", "testdata", "odd"),
	filepath.Join("..", "models", "testdata", "neox"),
	filepath.Join("..", "models", "testdata", "neox-serial"),
	filepath.Join("..", "models", "testdata", "llama"),
	filepath.Join("..", "models", "testdata", "mistral"),
	filepath.Join("..", "models", "testdata", "qwen2"),
	filepath.Join("..", "models", "testdata", "gemma2"),
}

// lensPrompts are two prompts of different lengths, so that the batch is
// padded.
var lensPrompts = []lm.Prompt{{IDs: []int{11, 42, 7, 99, 3, 58, 21, 5}}, {IDs: []int{8, 16, 23, 4, 77}}}

type lensFixture struct {
	m models.Model
	c *analysis.Cache
}

var (
	lensMu       sync.Mutex
	lensFixtures = map[string]lensFixture{}
)

// lensLoad loads a checkpoint and caches lensPrompts on it, once per test
// binary.
func lensLoad(t *testing.T, ckpt string) (models.Model, *analysis.Cache) {
	t.Helper()
	lensMu.Lock()
	defer lensMu.Unlock()
	if f, ok := lensFixtures[ckpt]; ok {
		return f.m, f.c
	}
	m, err := models.Load(ckpt, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := analysis.RunWithCache(m, lensPrompts)
	if err != nil {
		t.Fatal(err)
	}
	lensFixtures[ckpt] = lensFixture{m, c}
	return m, c
}

// lensClose reports the first index where got and want differ by more
// than tol times want's largest magnitude, or "" when none does.
func lensClose(got, want []float32, tol float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("lengths %d and %d", len(got), len(want))
	}
	big := 0.0
	for _, w := range want {
		big = math.Max(big, math.Abs(float64(w)))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > tol*math.Max(big, 1e-6) || math.IsNaN(d) {
			return fmt.Sprintf("index %d: %g, want %g (largest magnitude %g)", i, got[i], want[i], big)
		}
	}
	return ""
}

// lensSum sums a stack's components: [b,s,d].
func lensSum(st *analysis.Stack) []float32 {
	per := len(st.Values) / st.Shape[0]
	out := make([]float64, per)
	for k := range st.Shape[0] {
		for o, v := range st.Values[k*per : (k+1)*per] {
			out[o] += float64(v)
		}
	}
	f := make([]float32, per)
	for i, v := range out {
		f[i] = float32(v)
	}
	return f
}

// TestDecomposeResid checks on every model that the decomposition at each
// layer sums to the accumulated residual entering that layer, with and
// without the final norm's scale, and that its labels are
// TransformerLens'.
func TestDecomposeResid(t *testing.T) {
	for _, ckpt := range lensCheckpoints {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			m, c := lensLoad(t, ckpt)
			d := c.Dims
			acc, err := c.AccumulatedResid(-1, false, false)
			if err != nil {
				t.Fatal(err)
			}
			for layer := 0; layer <= d.Layers; layer++ {
				dec, err := c.DecomposeResid(layer, false)
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"embed"}
				if m.Family() == "gpt2" {
					want = append(want, "pos_embed")
				}
				for l := range layer {
					want = append(want, fmt.Sprintf("%d_attn_out", l), fmt.Sprintf("%d_mlp_out", l))
				}
				if !slices.Equal(dec.Labels, want) {
					t.Fatalf("layer %d labels %v, want %v", layer, dec.Labels, want)
				}
				per := len(acc.Values) / acc.Shape[0]
				if msg := lensClose(lensSum(dec), acc.Values[layer*per:(layer+1)*per], 1e-5); msg != "" {
					t.Errorf("layer %d: components do not sum to %s: %s", layer, acc.Labels[layer], msg)
				}
			}
			// With the final norm's scale: the normalized components sum
			// to the normalized final residual (centering and scaling are
			// linear at a fixed scale).
			dec, err := c.DecomposeResid(-1, true)
			if err != nil {
				t.Fatal(err)
			}
			fin, err := c.AccumulatedResid(-1, false, true)
			if err != nil {
				t.Fatal(err)
			}
			per := len(fin.Values) / fin.Shape[0]
			last := fin.Values[(fin.Shape[0]-1)*per:]
			if msg := lensClose(lensSum(dec), last, 1e-5); msg != "" {
				t.Errorf("normalized components do not sum to the normalized final residual: %s", msg)
			}
			// The normalized final residual has mean 0 (LayerNorm) and a
			// root mean square just under 1 at every real token.
			for i := range c.Batch.Size {
				for j := c.Batch.Offset(i); j < c.Batch.Len; j++ {
					row := fin.Row(fin.Shape[0]-1, i, j)
					mean, ms := 0.0, 0.0
					for _, v := range row {
						mean += float64(v) / float64(len(row))
						ms += float64(v) * float64(v) / float64(len(row))
					}
					if c.Centered && math.Abs(mean) > 1e-4 {
						t.Errorf("example %d column %d: normalized mean %g", i, j, mean)
					}
					if c.Centered {
						ms -= mean * mean
					}
					// sqrt(ms / (ms + eps)): at most 1, close to it.
					if rms := math.Sqrt(ms); rms > 1+1e-4 || rms < 0.5 {
						t.Errorf("example %d column %d: normalized root mean square %g, want just under 1", i, j, rms)
					}
				}
			}
			if want := m.Family() == "gpt2" || m.Family() == "gpt_neox"; c.Centered != want {
				t.Errorf("Centered = %v for %s, want %v", c.Centered, m.Family(), want)
			}
		})
	}
}

// TestAccumulatedResidLabels checks the labels of AccumulatedResid with
// and without resid_mid, and that its components are the cached sites.
func TestAccumulatedResidLabels(t *testing.T) {
	for _, ckpt := range lensCheckpoints {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			m, c := lensLoad(t, ckpt)
			n := c.Dims.Layers
			for _, tc := range []struct {
				layer   int
				inclMid bool
			}{{-1, false}, {-1, true}, {n, true}, {1, true}, {0, true}} {
				st, err := c.AccumulatedResid(tc.layer, tc.inclMid, false)
				if err != nil {
					t.Fatal(err)
				}
				layer := tc.layer
				if layer == -1 {
					layer = n
				}
				var want []string
				for l := 0; l <= layer && l < n; l++ {
					want = append(want, fmt.Sprintf("%d_pre", l))
					if tc.inclMid && l < layer && c.Dims.Has(lm.ResidMid) {
						want = append(want, fmt.Sprintf("%d_mid", l))
					}
				}
				if layer == n {
					want = append(want, "final_post")
				}
				if !slices.Equal(st.Labels, want) {
					t.Errorf("layer %d inclMid %v: labels %v, want %v", tc.layer, tc.inclMid, st.Labels, want)
				}
				for k, label := range st.Labels {
					site := lm.Site{Layer: n - 1, Component: lm.BlockOutput} // final_post
					if label != "final_post" {
						l, err := strconv.Atoi(strings.Split(label, "_")[0])
						if err != nil {
							t.Fatalf("label %q: %v", label, err)
						}
						site = lm.Site{Layer: l, Component: map[bool]lm.Component{true: lm.ResidMid, false: lm.BlockInput}[strings.HasSuffix(label, "_mid")]}
					}
					per := len(st.Values) / st.Shape[0]
					if !slices.Equal(st.Values[k*per:(k+1)*per], c.Site(site)) {
						t.Errorf("%s is not the cached %s", label, site)
					}
				}
			}
			if m.Family() == "gpt_neox" && c.Dims.Has(lm.ResidMid) == (filepath.Base(ckpt) == "neox") {
				t.Errorf("%s: resid_mid present = %v", ckpt, c.Dims.Has(lm.ResidMid))
			}
		})
	}
}

// TestStackHeadResults checks the head labels, that each head is its
// slice of head_result, and that heads plus the remainder sum to the
// residual.
func TestStackHeadResults(t *testing.T) {
	for _, ckpt := range lensCheckpoints {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			_, c := lensLoad(t, ckpt)
			d := c.Dims
			st, err := c.StackHeadResults(-1, true, false)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(st.Labels), d.Layers*d.Heads+1; got != want {
				t.Fatalf("%d components, want %d", got, want)
			}
			if st.Labels[1] != "L0H1" || st.Labels[d.Heads] != "L1H0" || st.Labels[len(st.Labels)-1] != "remainder" {
				t.Errorf("labels %v", st.Labels)
			}
			hr := c.Site(lm.Site{Layer: 1, Component: lm.HeadResult})
			s, w := c.Batch.Len, d.Hidden
			for i := range c.Batch.Size {
				for j := range s {
					want := hr[((i*d.Heads+1)*s+j)*w:][:w] // layer 1, head 1
					if got := st.Row(d.Heads+1, i, j); !slices.Equal(got, want) {
						t.Fatalf("L1H1 at example %d column %d is not head_result's head 1", i, j)
					}
				}
			}
			acc, err := c.AccumulatedResid(-1, false, false)
			if err != nil {
				t.Fatal(err)
			}
			per := len(acc.Values) / acc.Shape[0]
			if msg := lensClose(lensSum(st), acc.Values[d.Layers*per:], 1e-5); msg != "" {
				t.Errorf("heads and remainder do not sum to final_post: %s", msg)
			}
			heads, err := c.StackHeadResults(1, false, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(heads.Labels) != d.Heads || heads.Labels[0] != "L0H0" {
				t.Errorf("layer 1 labels %v, want L0H0..L0H%d", heads.Labels, d.Heads-1)
			}
		})
	}
}

// TestCacheErrors checks the errors of the stack methods.
func TestCacheErrors(t *testing.T) {
	m, c := lensLoad(t, lensCheckpoints[0])
	n := c.Dims.Layers
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"layer too big", func() error { _, err := c.AccumulatedResid(n+1, false, false); return err }, "out of range"},
		{"layer negative", func() error { _, err := c.DecomposeResid(-2, false); return err }, "out of range"},
		{"applyLN below the top", func() error { _, err := c.StackHeadResults(1, false, true); return err }, "only the final norm"},
		{"readout of a normalized stack", func() error {
			st, err := c.DecomposeResid(-1, true)
			if err != nil {
				return nil
			}
			_, err = analysis.Readout(m, c, st)
			return err
		}, "normalized"},
		{"token outside the vocabulary", func() error {
			st, err := c.DecomposeResid(-1, false)
			if err != nil {
				return nil
			}
			_, err = analysis.DLA(m, c, st, c.Dims.Vocab)
			return err
		}, "outside the vocabulary"},
		{"no tokens", func() error {
			st, err := c.DecomposeResid(-1, false)
			if err != nil {
				return nil
			}
			_, err = analysis.DLA(m, c, st)
			return err
		}, "at least one token"},
		{"bad stack", func() error {
			_, err := analysis.DLA(m, c, &analysis.Stack{Shape: []int{1, 1}}, 0)
			return err
		}, "stack of shape"},
		{"lens target", func() error {
			_, err := analysis.LogitLens(m, c, analysis.LensConfig{Targets: []int{c.Dims.Vocab}})
			return err
		}, "outside the vocabulary"},
		{"lens targets", func() error {
			_, err := analysis.LogitLens(m, c, analysis.LensConfig{Targets: []int{1, 2, 3}})
			return err
		}, "3 targets for 2 examples"},
		{"empty prompt", func() error { _, err := analysis.RunWithCache(m, []lm.Prompt{{}}); return err }, "analysis: cache"},
	} {
		err := tc.run()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
