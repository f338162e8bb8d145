package sae

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/govene/govene/safetensors"
)

// sae-lens 6.54.12 reference SAEs, written by oracle/make_sae_fixtures.py into
// testdata/<name>/: cfg.json and sae_weights.safetensors exactly as sae-lens'
// SAE.save_model writes them, reference.safetensors (float32 tensors: the site's
// activations x in the HF model gpt2/testdata/odd on two prompts, hidden_pre,
// feature_acts = encode(x), decoded = decode(feature_acts), reconstruction = sae(x),
// the plain logits, and the logits with sae(x) spliced in at the site, without and with
// the error term) and reference.json (prompts, shapes, settings, checks; "tensors" says
// what each name holds).

// saelensNames are the fixture SAEs.
var saelensNames = []string{"standard", "topk", "jumprelu", "standard-norm"}

// saelensTolerance is the parity tolerance (absolute, on values of order 1).
const saelensTolerance = 1e-5

// saelensTensor is one stored tensor: row-major float32 values and their shape.
type saelensTensor struct {
	Shape []int
	Data  []float32
}

// saelensCfg is cfg.json as sae-lens 6 writes it: the hook and model live under
// "metadata".
type saelensCfg struct {
	Architecture             string `json:"architecture"`
	DIn                      int    `json:"d_in"`
	DSAE                     int    `json:"d_sae"`
	Dtype                    string `json:"dtype"`
	Device                   string `json:"device"`
	ApplyBDecToInput         bool   `json:"apply_b_dec_to_input"`
	NormalizeActivations     string `json:"normalize_activations"`
	ReshapeActivations       string `json:"reshape_activations"`
	K                        int    `json:"k"`
	RescaleActsByDecoderNorm bool   `json:"rescale_acts_by_decoder_norm"`
	Metadata                 struct {
		SAELensVersion string `json:"sae_lens_version"`
		ModelName      string `json:"model_name"`
		HookName       string `json:"hook_name"`
		HookHeadIndex  *int   `json:"hook_head_index"`
		ContextSize    int    `json:"context_size"`
		PrependBOS     bool   `json:"prepend_bos"`
	} `json:"metadata"`
}

// saelensSummary is reference.json.
type saelensSummary struct {
	Name         string             `json:"name"`
	Checkpoint   string             `json:"checkpoint"`
	SAELens      string             `json:"sae_lens"`
	Architecture string             `json:"architecture"`
	HookName     string             `json:"hook_name"`
	Prompts      [][]int            `json:"prompts"`
	Shapes       map[string][]int   `json:"shapes"`
	Settings     map[string]any     `json:"settings"`
	Checks       map[string]float64 `json:"checks"`
	Tensors      map[string]string  `json:"tensors"`
}

// saelensFixture is one fixture folder read back.
type saelensFixture struct {
	Dir     string
	Cfg     saelensCfg
	Ref     saelensSummary
	Weights map[string]saelensTensor // sae_weights.safetensors
	Tensors map[string]saelensTensor // reference.safetensors
}

// scalingFactor returns settings.scaling_factor (standard-norm only) and whether it is there.
func (f *saelensFixture) scalingFactor() (float64, bool) {
	v, ok := f.Ref.Settings["scaling_factor"].(float64)
	return v, ok
}

// readSAELensTensors reads every tensor of a safetensors file as float32.
func readSAELensTensors(t testing.TB, path string) map[string]saelensTensor {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]saelensTensor{}
	for _, name := range f.Names() {
		data, shape, err := f.Float32(name)
		if err != nil {
			t.Fatalf("%s: %s: %v", path, name, err)
		}
		out[name] = saelensTensor{Shape: shape, Data: data}
	}
	return out
}

// openSAELens reads the fixture testdata/<name>: its cfg.json, sae_weights.safetensors,
// reference.safetensors and reference.json.
func openSAELens(t testing.TB, name string) *saelensFixture {
	t.Helper()
	dir := filepath.Join("testdata", name)
	fx := &saelensFixture{Dir: dir}
	for file, into := range map[string]any{"cfg.json": &fx.Cfg, "reference.json": &fx.Ref} {
		raw, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("%s/%s: %v", dir, file, err)
		}
	}
	fx.Weights = readSAELensTensors(t, filepath.Join(dir, "sae_weights.safetensors"))
	fx.Tensors = readSAELensTensors(t, filepath.Join(dir, "reference.safetensors"))
	return fx
}

// saelensEncodeDecode computes SAELens' forward in float64 from the fixture's weights
// for the rows of x ([rows*d_in]) with the input multiplied by scale and the output
// divided by it: hidden_pre, feature_acts and decoded.
func saelensEncodeDecode(fx *saelensFixture, x []float32, scale float64) (pre, feats, dec []float64) {
	d, n := fx.Cfg.DIn, fx.Cfg.DSAE
	w := fx.Weights
	rows := len(x) / d
	pre = make([]float64, rows*n)
	feats = make([]float64, rows*n)
	dec = make([]float64, rows*d)
	xi := make([]float64, d)
	for r := range rows {
		for i := range d {
			xi[i] = scale * float64(x[r*d+i])
			if fx.Cfg.ApplyBDecToInput {
				xi[i] -= float64(w["b_dec"].Data[i])
			}
		}
		p := pre[r*n : (r+1)*n]
		for j := range n {
			s := float64(w["b_enc"].Data[j])
			for i := range d {
				s += xi[i] * float64(w["W_enc"].Data[i*n+j])
			}
			p[j] = s
		}
		f := feats[r*n : (r+1)*n]
		switch fx.Cfg.Architecture {
		case "standard":
			for j, v := range p {
				f[j] = max(v, 0)
			}
		case "topk":
			idx := make([]int, n)
			for j := range idx {
				idx[j] = j
			}
			slices.SortStableFunc(idx, func(a, b int) int { return -cmpFloat(p[a], p[b]) })
			for _, j := range idx[:fx.Cfg.K] {
				f[j] = max(p[j], 0)
			}
		case "jumprelu":
			for j, v := range p {
				if v > float64(w["threshold"].Data[j]) {
					f[j] = max(v, 0)
				}
			}
		}
		for i := range d {
			s := float64(w["b_dec"].Data[i])
			for j := range n {
				s += f[j] * float64(w["W_dec"].Data[j*d+i])
			}
			dec[r*d+i] = s / scale
		}
	}
	return pre, feats, dec
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// saelensMaxDiff returns max |a-b| over equal-length slices, or +Inf when the lengths differ.
func saelensMaxDiff[A, B float32 | float64](a []A, b []B) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// TestSAELensFixturesWellFormed checks that every fixture has the config, weights and
// reference tensors the parity tests rely on, that a float64 recomputation of SAELens'
// forward from the stored weights gives the stored encode/decode, and that the splice
// moved the logits while the error term restored them.
func TestSAELensFixturesWellFormed(t *testing.T) {
	wantArch := map[string]string{"standard": "standard", "topk": "topk", "jumprelu": "jumprelu", "standard-norm": "standard"}
	for _, name := range saelensNames {
		t.Run(name, func(t *testing.T) {
			fx := openSAELens(t, name)
			c := fx.Cfg
			if c.Architecture != wantArch[name] || fx.Ref.Architecture != c.Architecture {
				t.Fatalf("architecture: cfg %q, reference.json %q, want %q", c.Architecture, fx.Ref.Architecture, wantArch[name])
			}
			if c.DIn != 24 || c.DSAE != 64 || c.Dtype != "float32" {
				t.Fatalf("cfg d_in %d d_sae %d dtype %q; want 24, 64, float32", c.DIn, c.DSAE, c.Dtype)
			}
			if c.Metadata.HookName == "" || c.Metadata.HookName != fx.Ref.HookName {
				t.Fatalf("metadata.hook_name %q, reference.json hook_name %q", c.Metadata.HookName, fx.Ref.HookName)
			}
			if c.Metadata.SAELensVersion != fx.Ref.SAELens || fx.Ref.SAELens != "6.54.12" {
				t.Errorf("sae_lens_version %q, reference.json %q; want 6.54.12", c.Metadata.SAELensVersion, fx.Ref.SAELens)
			}
			if c.Architecture == "topk" && c.K != 4 {
				t.Errorf("k = %d, want 4", c.K)
			}

			d, n := c.DIn, c.DSAE
			wantW := map[string][]int{"W_enc": {d, n}, "b_enc": {n}, "W_dec": {n, d}, "b_dec": {d}}
			if c.Architecture == "jumprelu" {
				wantW["threshold"] = []int{n}
			}
			if len(fx.Weights) != len(wantW) {
				t.Errorf("weights %d tensors, want %v", len(fx.Weights), wantW)
			}
			for wn, shape := range wantW {
				w, ok := fx.Weights[wn]
				if !ok || !slices.Equal(w.Shape, shape) {
					t.Fatalf("weight %s: shape %v (present %v), want %v", wn, w.Shape, ok, shape)
				}
				if wn == "b_enc" || wn == "b_dec" || wn == "threshold" {
					for j, v := range w.Data {
						if v == 0 {
							t.Errorf("%s[%d] = 0; the fixture wants every bias and threshold nonzero", wn, j)
						}
					}
				}
			}

			if len(fx.Ref.Prompts) != 2 {
				t.Fatalf("%d prompts, want 2", len(fx.Ref.Prompts))
			}
			b, s := len(fx.Ref.Prompts), len(fx.Ref.Prompts[0])
			for _, p := range fx.Ref.Prompts {
				for _, id := range p {
					if len(p) != s || id < 0 || id >= 1000 {
						t.Fatalf("prompts %v: want 2 rows of %d ids in [0, 1000)", fx.Ref.Prompts, s)
					}
				}
			}
			want := map[string][]int{
				"x": {b, s, d}, "hidden_pre": {b, s, n}, "feature_acts": {b, s, n}, "decoded": {b, s, d},
				"reconstruction": {b, s, d}, "logits": {b, s, 1000}, "logits_spliced": {b, s, 1000},
				"logits_spliced_error": {b, s, 1000},
			}
			_, norm := fx.scalingFactor()
			if norm != (c.NormalizeActivations == "expected_average_only_in") {
				t.Fatalf("normalize_activations %q but scaling_factor present %v", c.NormalizeActivations, norm)
			}
			if norm {
				want["feature_acts_folded"] = []int{b, s, n}
				want["decoded_folded"] = []int{b, s, d}
			}
			if len(fx.Tensors) != len(want) {
				t.Errorf("reference has %d tensors, want %d", len(fx.Tensors), len(want))
			}
			for tn, shape := range want {
				x, ok := fx.Tensors[tn]
				if !ok || !slices.Equal(x.Shape, shape) || !slices.Equal(fx.Ref.Shapes[tn], shape) {
					t.Fatalf("tensor %s: shape %v (json %v, present %v), want %v", tn, x.Shape, fx.Ref.Shapes[tn], ok, shape)
				}
				if fx.Ref.Tensors[tn] == "" {
					t.Errorf("reference.json does not say what %s holds", tn)
				}
			}

			x := fx.Tensors["x"].Data
			pre, feats, dec := saelensEncodeDecode(fx, x, 1)
			for _, cmp := range []struct {
				name string
				got  []float64
			}{{"hidden_pre", pre}, {"feature_acts", feats}, {"decoded", dec}, {"reconstruction", dec}} {
				if diff := saelensMaxDiff(cmp.got, fx.Tensors[cmp.name].Data); diff > saelensTolerance {
					t.Errorf("%s: float64 recomputation differs by %.3g (> %g)", cmp.name, diff, saelensTolerance)
				}
			}
			if sc, ok := fx.scalingFactor(); ok {
				_, ff, fd := saelensEncodeDecode(fx, x, sc)
				if diff := saelensMaxDiff(ff, fx.Tensors["feature_acts_folded"].Data); diff > saelensTolerance {
					t.Errorf("feature_acts_folded is not encode(%g x): differs by %.3g", sc, diff)
				}
				if diff := saelensMaxDiff(fd, fx.Tensors["decoded_folded"].Data); diff > saelensTolerance {
					t.Errorf("decoded_folded is not decode(f)/%g: differs by %.3g", sc, diff)
				}
			}
			active := 0
			for _, v := range feats {
				if v > 0 {
					active++
				}
			}
			if active == 0 || (c.Architecture == "topk" && active > b*s*c.K) {
				t.Errorf("%d active features over %d positions", active, b*s)
			}

			logits := fx.Tensors["logits"].Data
			if diff := saelensMaxDiff(logits, fx.Tensors["logits_spliced"].Data); diff < 1e-3 {
				t.Errorf("splicing moved the logits by %.3g only", diff)
			}
			if diff := saelensMaxDiff(logits, fx.Tensors["logits_spliced_error"].Data); diff > 1e-4 {
				t.Errorf("the error term left the logits %.3g away from the plain ones", diff)
			}
		})
	}
}
