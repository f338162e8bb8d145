package analysis

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/govene/govene/safetensors"
)

// TransformerLens 4.3.0 reference values of the analysis methods, written by
// oracle/make_analysis_fixtures.py into testdata/<ckpt>/tl_reference.safetensors
// ({case}/{name} -> float32) and testdata/<ckpt>/tl_cases.json (cases, labels,
// shapes, settings; tensor_docs says what every name holds).

// tlCheckpoints are the fixture checkpoints: GPT-2 (gpt2/testdata/odd) and Llama with
// grouped-query attention (models/testdata/llama).
var tlCheckpoints = []string{"gpt2-odd", "llama"}

// tlTolerance is the parity tolerance relative to a tensor's largest magnitude.
const tlTolerance = 1e-4

// tlTensor is one stored tensor: row-major float32 values and their shape.
type tlTensor struct {
	Shape []int
	Data  []float32
}

// at returns the value at the given index (one per axis); it panics on a bad index,
// which is a bug in the test.
func (x tlTensor) at(idx ...int) float32 {
	if len(idx) != len(x.Shape) {
		panic(fmt.Sprintf("tlTensor.at: %d indices for shape %v", len(idx), x.Shape))
	}
	off := 0
	for i, v := range idx {
		if v < 0 || v >= x.Shape[i] {
			panic(fmt.Sprintf("tlTensor.at: index %v out of shape %v", idx, x.Shape))
		}
		off = off*x.Shape[i] + v
	}
	return x.Data[off]
}

// maxAbs returns the largest |value| of x.
func (x tlTensor) maxAbs() float64 {
	m := 0.0
	for _, v := range x.Data {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// tlConfig is the model's shape as TransformerLens saw it.
type tlConfig struct {
	Layers            int     `json:"n_layers"`
	Heads             int     `json:"n_heads"`
	KVHeads           *int    `json:"n_key_value_heads"`
	DModel            int     `json:"d_model"`
	DHead             int     `json:"d_head"`
	Vocab             int     `json:"d_vocab"`
	NormalizationType string  `json:"normalization_type"` // "LN" or "RMS"
	Eps               float64 `json:"eps"`
}

// tlCase is one prompt pair with its stored tensors. Tensors are keyed by the name
// after "<case>/" (e.g. "clean/blocks.0.attn.hook_result", "dla/heads_target").
type tlCase struct {
	Name      string  `json:"name"`
	Batch     int     `json:"batch"`
	Seq       int     `json:"seq"`
	Clean     [][]int `json:"clean"`
	Corrupted [][]int `json:"corrupted"`
	Target    []int   `json:"target"` // per example
	Other     []int   `json:"other"`  // per example
	Metric    struct {
		Clean     float64 `json:"clean"`
		Corrupted float64 `json:"corrupted"`
	} `json:"metric"`
	// Labels: "accumulated_resid", "decompose_resid", "stack_head_results" -> TL's labels.
	Labels      map[string][]string `json:"labels"`
	Shapes      map[string][]int    `json:"tensors"`
	Correlation map[string]float64  `json:"attrib_vs_patch_correlation"`

	Tensors map[string]tlTensor `json:"-"`
}

// tensor returns the case's tensor called name, failing the test when it is absent.
func (c *tlCase) tensor(t testing.TB, name string) tlTensor {
	t.Helper()
	x, ok := c.Tensors[name]
	if !ok {
		t.Fatalf("TL fixture case %s: no tensor %q", c.Name, name)
	}
	return x
}

// tlFixture is one checkpoint's TransformerLens reference.
type tlFixture struct {
	Checkpoint   string            `json:"checkpoint"`
	ModelDir     string            `json:"model_dir"` // relative to the repository root
	Architecture string            `json:"architecture"`
	Version      string            `json:"transformer_lens"`
	Compat       map[string]bool   `json:"compatibility_mode"`
	Config       tlConfig          `json:"config"`
	Docs         map[string]string `json:"tensor_docs"`
	Cases        []*tlCase         `json:"cases"`
}

// modelPath returns the checkpoint's directory relative to this package.
func (f *tlFixture) modelPath() string { return filepath.Join("..", filepath.FromSlash(f.ModelDir)) }

// openTL reads testdata/<ckpt>/tl_cases.json and every tensor of
// tl_reference.safetensors into memory, failing the test on any error.
func openTL(t testing.TB, ckpt string) *tlFixture {
	t.Helper()
	dir := filepath.Join("testdata", ckpt)
	data, err := os.ReadFile(filepath.Join(dir, "tl_cases.json"))
	if err != nil {
		t.Fatalf("TL fixture %s: %v", ckpt, err)
	}
	var f tlFixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("TL fixture %s: tl_cases.json: %v", ckpt, err)
	}
	ref, err := safetensors.Open(filepath.Join(dir, "tl_reference.safetensors"))
	if err != nil {
		t.Fatalf("TL fixture %s: %v", ckpt, err)
	}
	defer ref.Close()
	byCase := map[string]*tlCase{}
	for _, c := range f.Cases {
		c.Tensors = map[string]tlTensor{}
		byCase[c.Name] = c
	}
	for _, name := range ref.Names() {
		caseName, rest, ok := strings.Cut(name, "/")
		c := byCase[caseName]
		if !ok || c == nil {
			t.Fatalf("TL fixture %s: tensor %q belongs to no case of tl_cases.json", ckpt, name)
		}
		values, shape, err := ref.Float32(name)
		if err != nil {
			t.Fatalf("TL fixture %s: %v", ckpt, err)
		}
		c.Tensors[rest] = tlTensor{Shape: shape, Data: values}
	}
	return &f
}

// tlClose reports whether got is within tlTolerance of want, relative to want's
// largest magnitude; it returns the worst relative difference too.
func tlClose(got, want []float32) (bool, float64) {
	if len(got) != len(want) {
		return false, math.Inf(1)
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			return false, math.NaN()
		}
		worst = math.Max(worst, d)
	}
	rel := worst / math.Max(scale, 1e-30)
	return rel <= tlTolerance, rel
}

// tlWantLabels returns TransformerLens' labels for a model with the given layers and
// heads: accumulated_resid (incl_mid), decompose_resid and stack_head_results.
func tlWantLabels(layers, heads int, posEmbed bool) map[string][]string {
	var acc, dec, hs []string
	dec = append(dec, "embed")
	if posEmbed {
		dec = append(dec, "pos_embed")
	}
	for l := range layers {
		acc = append(acc, fmt.Sprintf("%d_pre", l), fmt.Sprintf("%d_mid", l))
		dec = append(dec, fmt.Sprintf("%d_attn_out", l), fmt.Sprintf("%d_mlp_out", l))
		for h := range heads {
			hs = append(hs, fmt.Sprintf("L%dH%d", l, h))
		}
	}
	acc = append(acc, "final_post")
	return map[string][]string{"accumulated_resid": acc, "decompose_resid": dec, "stack_head_results": hs}
}

// tlWantShapes returns the shape every stored tensor must have.
func tlWantShapes(cfg tlConfig, c *tlCase, labels map[string][]string, posEmbed bool) map[string][]int {
	b, s, d, h, L, v := c.Batch, c.Seq, cfg.DModel, cfg.Heads, cfg.Layers, cfg.Vocab
	nAcc, nDec, nHeads := len(labels["accumulated_resid"]), len(labels["decompose_resid"]), len(labels["stack_head_results"])
	want := map[string][]int{
		"accumulated_resid":              {nAcc, b, s, d},
		"accumulated_resid_cached_scale": {nAcc, b, s, d},
		"decompose_resid":                {nDec, b, s, d},
		"stack_head_results":             {nHeads, b, s, d},
		"lens/logits":                    {nAcc, b, s, v},
		"lens/target_rank":               {nAcc, b, s},
		"lens/target_prob":               {nAcc, b, s},
		"lens_cached_scale/target_rank":  {nAcc, b, s},
		"lens_cached_scale/target_prob":  {nAcc, b, s},
		"dla/decompose_target":           {nDec, b, s},
		"dla/decompose_logit_diff":       {nDec, b, s},
		"dla/heads_target":               {nHeads, b, s},
		"dla/heads_logit_diff":           {nHeads, b, s},
		"attrib/resid_pre":               {L, s},
		"attrib/attn_out":                {L, s},
		"attrib/mlp_out":                 {L, s},
		"attrib/head_out":                {L, h, s},
		"patch/resid_pre":                {L, s},
		"patch/attn_out":                 {L, s},
		"patch/mlp_out":                  {L, s},
		"patch/head_out":                 {L, h, s},
	}
	for _, run := range []string{"clean", "corrupted"} {
		want[run+"/logits"] = []int{b, s, v}
		want[run+"/hook_embed"] = []int{b, s, d}
		if posEmbed {
			want[run+"/hook_pos_embed"] = []int{b, s, d}
		}
		want[run+"/ln_final.hook_scale"] = []int{b, s, 1}
		for l := range L {
			for _, hook := range []string{"hook_resid_pre", "hook_resid_mid", "hook_resid_post", "hook_attn_out", "hook_mlp_out"} {
				want[fmt.Sprintf("%s/blocks.%d.%s", run, l, hook)] = []int{b, s, d}
			}
			want[fmt.Sprintf("%s/blocks.%d.attn.hook_z", run, l)] = []int{b, h, s, cfg.DHead}
			want[fmt.Sprintf("%s/blocks.%d.attn.hook_result", run, l)] = []int{b, h, s, d}
		}
	}
	for l := range L {
		for _, hook := range []string{"hook_resid_pre", "hook_attn_out", "hook_mlp_out"} {
			want[fmt.Sprintf("grad/blocks.%d.%s", l, hook)] = []int{b, s, d}
		}
		want[fmt.Sprintf("grad/blocks.%d.attn.hook_z", l)] = []int{b, h, s, cfg.DHead}
	}
	return want
}

// TestTLFixturesWellFormed checks the TransformerLens fixtures' shapes, labels and
// tokens, and the identities between stored tensors that the analysis methods rely on:
// the final norm's scale formula, the decomposition summing to the normalised final
// residual, ranks and probabilities matching the lens logits, per-head attribution
// summing to the attention output's, attribution = (clean - corrupted) . gradient.
func TestTLFixturesWellFormed(t *testing.T) {
	wantArch := map[string]string{"gpt2-odd": "GPT2ArchitectureAdapter", "llama": "LlamaArchitectureAdapter"}
	for _, ckpt := range tlCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			f := openTL(t, ckpt)
			cfg := f.Config
			if f.Version != "4.3.0" || f.Architecture != wantArch[ckpt] || f.Checkpoint != ckpt {
				t.Errorf("fixture is TL %q %q %q, want 4.3.0 %q %q", f.Version, f.Architecture, f.Checkpoint, wantArch[ckpt], ckpt)
			}
			if !f.Compat["fold_ln"] || f.Compat["center_writing_weights"] || f.Compat["center_unembed"] || f.Compat["fold_value_biases"] {
				t.Errorf("compatibility_mode %v, want fold_ln only", f.Compat)
			}
			if _, err := os.Stat(filepath.Join(f.modelPath(), "config.json")); err != nil {
				t.Errorf("model_dir %q: %v", f.ModelDir, err)
			}
			if cfg.Layers < 1 || cfg.Heads < 1 || cfg.DModel != cfg.Heads*cfg.DHead {
				t.Errorf("bad config %+v", cfg)
			}
			if names := caseNames(f); !slices.Equal(names, []string{"b1", "b2"}) {
				t.Errorf("cases %v, want [b1 b2]", names)
			}
			posEmbed := ckpt == "gpt2-odd"
			for _, c := range f.Cases {
				t.Run(c.Name, func(t *testing.T) { checkTLCase(t, f, c, posEmbed) })
			}
		})
	}
}

func caseNames(f *tlFixture) []string {
	var names []string
	for _, c := range f.Cases {
		names = append(names, c.Name)
	}
	return names
}

func checkTLCase(t *testing.T, f *tlFixture, c *tlCase, posEmbed bool) {
	cfg := f.Config
	for what, toks := range map[string][][]int{"clean": c.Clean, "corrupted": c.Corrupted, "target": {c.Target}, "other": {c.Other}} {
		rows, cols := c.Batch, c.Seq
		if what == "target" || what == "other" {
			rows, cols = 1, c.Batch
		}
		if len(toks) != rows {
			t.Fatalf("%s: %d rows, want %d", what, len(toks), rows)
		}
		for _, row := range toks {
			if len(row) != cols {
				t.Fatalf("%s: row of %d, want %d", what, len(row), cols)
			}
			for _, id := range row {
				if id < 0 || id >= cfg.Vocab {
					t.Errorf("%s: token %d outside [0,%d)", what, id, cfg.Vocab)
				}
			}
		}
	}
	labels := tlWantLabels(cfg.Layers, cfg.Heads, posEmbed)
	for k, want := range labels {
		if !slices.Equal(c.Labels[k], want) {
			t.Errorf("labels %s = %v, want %v", k, c.Labels[k], want)
		}
	}
	want := tlWantShapes(cfg, c, labels, posEmbed)
	for name, shape := range want {
		x, ok := c.Tensors[name]
		switch {
		case !ok:
			t.Errorf("missing tensor %s", name)
		case !slices.Equal(x.Shape, shape) || !slices.Equal(c.Shapes[name], shape):
			t.Errorf("%s: shape %v (json %v), want %v", name, x.Shape, c.Shapes[name], shape)
		}
	}
	for name := range c.Tensors {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected tensor %s", name)
		}
	}
	if t.Failed() {
		return
	}
	if math.Abs(c.Metric.Clean-c.Metric.Corrupted) < 1e-2 {
		t.Errorf("metric clean %g, corrupted %g: no signal", c.Metric.Clean, c.Metric.Corrupted)
	}
	checkTLScale(t, cfg, c)
	checkTLDecomposition(t, c)
	checkTLLens(t, cfg, c)
	checkTLAttribution(t, cfg, c)
}

// checkTLScale: ln_final.hook_scale is sqrt(var+eps) (LayerNorm) or sqrt(mean(x^2)+eps)
// (RMSNorm) of the last block's output.
func checkTLScale(t *testing.T, cfg tlConfig, c *tlCase) {
	resid := c.tensor(t, fmt.Sprintf("clean/blocks.%d.hook_resid_post", cfg.Layers-1))
	scale := c.tensor(t, "clean/ln_final.hook_scale")
	got := make([]float32, 0, len(scale.Data))
	d := cfg.DModel
	for i := 0; i < len(resid.Data); i += d {
		row := resid.Data[i : i+d]
		mean := 0.0
		if cfg.NormalizationType == "LN" {
			for _, v := range row {
				mean += float64(v)
			}
			mean /= float64(d)
		}
		ss := 0.0
		for _, v := range row {
			ss += (float64(v) - mean) * (float64(v) - mean)
		}
		got = append(got, float32(math.Sqrt(ss/float64(d)+cfg.Eps)))
	}
	if ok, rel := tlClose(got, scale.Data); !ok {
		t.Errorf("ln_final.hook_scale differs from the %s formula by %.3g", cfg.NormalizationType, rel)
	}
}

// checkTLDecomposition: the normalised components sum to the normalised final residual
// (the cached-scale stack's last entry), which equals the recomputed one there.
func checkTLDecomposition(t *testing.T, c *tlCase) {
	dec := c.tensor(t, "decompose_resid")
	cached := c.tensor(t, "accumulated_resid_cached_scale")
	acc := c.tensor(t, "accumulated_resid")
	n := len(cached.Data) / cached.Shape[0]
	lastCached := cached.Data[len(cached.Data)-n:]
	lastAcc := acc.Data[len(acc.Data)-n:]
	sum := make([]float32, n)
	for k := range dec.Shape[0] {
		for i := range n {
			sum[i] += dec.Data[k*n+i]
		}
	}
	if ok, rel := tlClose(sum, lastCached); !ok {
		t.Errorf("sum of decompose_resid differs from the normalised final residual by %.3g", rel)
	}
	if ok, rel := tlClose(lastAcc, lastCached); !ok {
		t.Errorf("accumulated_resid final_post: recomputed and cached-scale norms differ by %.3g", rel)
	}
}

// checkTLLens: target ranks and probabilities agree with the lens logits.
func checkTLLens(t *testing.T, cfg tlConfig, c *tlCase) {
	logits := c.tensor(t, "lens/logits")
	rank := c.tensor(t, "lens/target_rank")
	prob := c.tensor(t, "lens/target_prob")
	v := cfg.Vocab
	n, b, s := logits.Shape[0], logits.Shape[1], logits.Shape[2]
	var gotProb []float32
	bad := 0
	for k := range n {
		for i := range b {
			for p := range s {
				row := logits.Data[((k*b+i)*s+p)*v:][:v]
				tl := row[c.Target[i]]
				above, maxL := 0, math.Inf(-1)
				for _, x := range row {
					if x > tl {
						above++
					}
					maxL = math.Max(maxL, float64(x))
				}
				if r := rank.at(k, i, p); float32(above) != r {
					if bad == 0 {
						t.Errorf("lens/target_rank [%d,%d,%d] = %g, lens/logits say %d", k, i, p, r, above)
					}
					bad++
				}
				z := 0.0
				for _, x := range row {
					z += math.Exp(float64(x) - maxL)
				}
				gotProb = append(gotProb, float32(math.Exp(float64(tl)-maxL)/z))
			}
		}
	}
	if bad > 1 {
		t.Errorf("lens/target_rank: %d of %d ranks disagree with lens/logits", bad, n*b*s)
	}
	if ok, rel := tlClose(gotProb, prob.Data); !ok {
		t.Errorf("lens target_prob differs from softmax(lens/logits) by %.3g", rel)
	}
}

// checkTLAttribution: attrib = sum over batch and d of (clean - corrupted) * grad, the
// per-head grid sums to the attention output's, and no grid is all ~0.
func checkTLAttribution(t *testing.T, cfg tlConfig, c *tlCase) {
	L, H, s := cfg.Layers, cfg.Heads, c.Seq
	for _, g := range []struct{ grid, hook string }{
		{"resid_pre", "hook_resid_pre"}, {"attn_out", "hook_attn_out"}, {"mlp_out", "hook_mlp_out"},
	} {
		attrib := c.tensor(t, "attrib/"+g.grid)
		got := make([]float32, L*s)
		for l := range L {
			name := fmt.Sprintf("blocks.%d.%s", l, g.hook)
			cl, co, gr := c.tensor(t, "clean/"+name), c.tensor(t, "corrupted/"+name), c.tensor(t, "grad/"+name)
			d := cl.Shape[2]
			for i := range cl.Data {
				p := (i / d) % s
				got[l*s+p] += (cl.Data[i] - co.Data[i]) * gr.Data[i]
			}
		}
		if ok, rel := tlClose(got, attrib.Data); !ok {
			t.Errorf("attrib/%s differs from (clean - corrupted) . grad by %.3g", g.grid, rel)
		}
	}
	heads, attn := c.tensor(t, "attrib/head_out"), c.tensor(t, "attrib/attn_out")
	sum := make([]float32, L*s)
	for l := range L {
		for h := range H {
			for p := range s {
				sum[l*s+p] += heads.at(l, h, p)
			}
		}
	}
	if ok, rel := tlClose(sum, attn.Data); !ok {
		t.Errorf("attrib/head_out summed over heads differs from attrib/attn_out by %.3g", rel)
	}
	for name, x := range c.Tensors {
		if strings.HasPrefix(name, "attrib/") || strings.HasPrefix(name, "dla/") {
			if x.maxAbs() < 1e-3 {
				t.Errorf("%s: all values ~0", name)
			}
		}
	}
}
