package sae_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/govene/govene/sae"
	"github.com/govene/govene/safetensors"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *sae.SAE)
	}{
		{"standard", func(*sae.SAE) {}},
		{"topk", func(s *sae.SAE) { *s = *randomSAE(sae.ArchTopK, 6, 10, s.HookName, 2) }},
		{"topk rescaled", func(s *sae.SAE) {
			*s = *randomSAE(sae.ArchTopK, 6, 10, s.HookName, 2)
			s.RescaleActsByDecoderNorm = true
		}},
		{"jumprelu", func(s *sae.SAE) { *s = *randomSAE(sae.ArchJumpReLU, 6, 10, s.HookName, 3) }},
		{"no b_dec on input", func(s *sae.SAE) { s.ApplyBDecToInput = false }},
		{"constant norm", func(s *sae.SAE) { s.NormalizeActivations = sae.NormConstantRescale }},
		{"layer norm", func(s *sae.SAE) { s.NormalizeActivations = sae.NormLayerNorm }},
		{"head index and extras", func(s *sae.SAE) {
			h := 2
			s.HookHeadIndex = &h
			s.Extra = map[string][]byte{"dataset_path": []byte(`"some/data"`)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := randomSAE(sae.ArchStandard, 6, 10, "blocks.1.hook_resid_pre", 1)
			tc.edit(s)
			dir, got := saveLoad(t, s)
			if !slices.Equal(got.WEnc, s.WEnc) || !slices.Equal(got.BEnc, s.BEnc) || !slices.Equal(got.WDec, s.WDec) ||
				!slices.Equal(got.BDec, s.BDec) || !slices.Equal(got.Threshold, s.Threshold) {
				t.Errorf("weights differ after the round trip")
			}
			if got.Architecture != s.Architecture || got.K != s.K || got.HookName != s.HookName || got.ApplyBDecToInput != s.ApplyBDecToInput ||
				got.NormalizeActivations != s.NormalizeActivations || got.RescaleActsByDecoderNorm != s.RescaleActsByDecoderNorm ||
				got.ModelName != s.ModelName || (got.HookHeadIndex == nil) != (s.HookHeadIndex == nil) {
				t.Errorf("config differs: got %+v, want %+v", got.Config, s.Config)
			}
			if s.Extra != nil && string(got.Extra["dataset_path"]) != `"some/data"` {
				t.Errorf("extra field lost: %q", got.Extra)
			}
			// The file is SAELens 6's layout: hook_name under metadata.
			raw, _ := os.ReadFile(filepath.Join(dir, sae.CfgFile))
			var cfg struct {
				Metadata map[string]any `json:"metadata"`
			}
			if err := json.Unmarshal(raw, &cfg); err != nil || cfg.Metadata["hook_name"] != s.HookName {
				t.Errorf("cfg.json metadata.hook_name = %v (err %v), want %q", cfg.Metadata["hook_name"], err, s.HookName)
			}
		})
	}
}

// TestSaveFoldsScale: an expected_average_only_in SAE with a scale saves
// with the factor folded in, and encodes the same after loading.
func TestSaveFoldsScale(t *testing.T) {
	s := randomSAE(sae.ArchStandard, 6, 10, "blocks.0.hook_resid_post", 4)
	s.NormalizeActivations, s.Scale = sae.NormExpectedAverage, 2.5
	_, got := saveLoad(t, s)
	if got.NormalizeActivations != sae.NormNone {
		t.Errorf("normalize_activations = %q after folding, want none", got.NormalizeActivations)
	}
	x := make([]float32, 12)
	for i := range x {
		x[i] = float32(i%5) - 1.5
	}
	a, _ := s.Reconstruct(x)
	b, _ := got.Reconstruct(x)
	if d := maxAbsDiff(a, b); d > 1e-5 {
		t.Errorf("reconstruction differs by %g after folding the scale", d)
	}
	fa, _ := s.Encode(x)
	fb, _ := got.Encode(x)
	if d := maxAbsDiff(fa, fb); d > 1e-5 {
		t.Errorf("activations differ by %g after folding the scale", d)
	}
}

// writeSAE writes cfg (a JSON object) and tensors into a new folder.
func writeSAE(t *testing.T, cfg map[string]any, ts []safetensors.Tensor) string {
	t.Helper()
	dir := t.TempDir()
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, sae.CfgFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if ts != nil {
		if err := safetensors.Write(filepath.Join(dir, sae.WeightsFile), ts, nil); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func baseCfg() map[string]any {
	return map[string]any{"architecture": "standard", "d_in": 4, "d_sae": 3, "dtype": "float32",
		"apply_b_dec_to_input": true, "normalize_activations": "none",
		"metadata": map[string]any{"hook_name": "blocks.0.hook_resid_pre", "sae_lens_version": "6.5.0"}}
}

func f32(name string, dims ...int) safetensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i%7) / 7
	}
	return safetensors.F32Tensor(name, dims, v)
}

func goodTensors() []safetensors.Tensor {
	return []safetensors.Tensor{f32("W_enc", 4, 3), f32("b_enc", 3), f32("W_dec", 3, 4), f32("b_dec", 4)}
}

func TestLoadHostile(t *testing.T) {
	with := func(k string, v any) map[string]any { c := baseCfg(); c[k] = v; return c }
	replace := func(i int, ts safetensors.Tensor) []safetensors.Tensor { g := goodTensors(); g[i] = ts; return g }
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
		want []string // substrings of the error
	}{
		{"wrong W_enc shape", func(t *testing.T) string { return writeSAE(t, baseCfg(), replace(0, f32("W_enc", 3, 4))) },
			[]string{"W_enc", "[3 4]", "[4 3]"}},
		{"wrong b_dec shape", func(t *testing.T) string { return writeSAE(t, baseCfg(), replace(3, f32("b_dec", 5))) },
			[]string{"b_dec", "[5]", "[4]"}},
		{"huge d_sae", func(t *testing.T) string { return writeSAE(t, with("d_sae", 1<<40), goodTensors()) },
			[]string{"d_sae", "1099511627776", "valid"}},
		{"huge product", func(t *testing.T) string {
			c := with("d_sae", 1<<21)
			c["d_in"] = 1 << 21
			return writeSAE(t, c, goodTensors())
		}, []string{"weights per matrix", "limit"}},
		{"zero d_in", func(t *testing.T) string { return writeSAE(t, with("d_in", 0), goodTensors()) }, []string{"d_in 0"}},
		{"unknown architecture", func(t *testing.T) string { return writeSAE(t, with("architecture", "gated"), goodTensors()) },
			[]string{"architecture", "gated", "standard", "topk", "jumprelu"}},
		{"unknown normalisation", func(t *testing.T) string {
			return writeSAE(t, with("normalize_activations", "covariance_whitening"), goodTensors())
		}, []string{"normalize_activations", "covariance_whitening", "constant_norm_rescale"}},
		{"topk without k", func(t *testing.T) string { return writeSAE(t, with("architecture", "topk"), goodTensors()) },
			[]string{"k 0", "topk"}},
		{"d_in a string", func(t *testing.T) string { return writeSAE(t, with("d_in", "four"), goodTensors()) }, []string{"d_in", "four"}},
		{"missing tensor", func(t *testing.T) string { return writeSAE(t, baseCfg(), goodTensors()[:3]) }, []string{"b_dec", "missing"}},
		{"jumprelu without threshold", func(t *testing.T) string {
			return writeSAE(t, with("architecture", "jumprelu"), goodTensors())
		}, []string{"threshold", "missing"}},
		{"integer tensor", func(t *testing.T) string {
			return writeSAE(t, baseCfg(), replace(1, safetensors.I64Tensor("b_enc", []int{3}, []int64{1, 2, 3})))
		}, []string{"b_enc", "dtype"}},
		{"cfg not an object", func(t *testing.T) string {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, sae.CfgFile), []byte(`[1,2]`), 0o644)
			return dir
		}, []string{"cfg.json"}},
		{"no cfg.json", func(t *testing.T) string { return t.TempDir() }, []string{"cfg.json"}},
		{"weights are a FIFO", func(t *testing.T) string {
			dir := writeSAE(t, baseCfg(), nil)
			if err := syscall.Mkfifo(filepath.Join(dir, sae.WeightsFile), 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
			return dir
		}, []string{"named pipe"}},
		{"cfg.json is a FIFO", func(t *testing.T) string {
			dir := t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(dir, sae.CfgFile), 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
			return dir
		}, []string{"named pipe"}},
		{"non-finite weight", func(t *testing.T) string {
			ts := goodTensors()
			v := make([]float32, 3)
			v[1] = float32(nan())
			ts[1] = safetensors.F32Tensor("b_enc", []int{3}, v)
			return writeSAE(t, baseCfg(), ts)
		}, []string{"b_enc", "non-finite"}},
		{"garbage weights", func(t *testing.T) string {
			dir := writeSAE(t, baseCfg(), nil)
			os.WriteFile(filepath.Join(dir, sae.WeightsFile), []byte("\xff\xff\xff\xff\xff\xff\xff\x7fgarbage"), 0o644)
			return dir
		}, []string{sae.WeightsFile}},
		{"unsupported hub name", func(t *testing.T) string { return "not-a-folder-nor-repo" }, []string{"neither a folder nor a Hub repository"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sae.Load(tc.dir(t), sae.Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }

// TestLoadFormats: older SAELens configs, half-precision weights,
// log_threshold, and subfolders.
func TestLoadFormats(t *testing.T) {
	old := map[string]any{"d_in": 4, "d_sae": 3, "hook_point": "blocks.2.hook_resid_post", "activation_fn": "topk",
		"activation_fn_kwargs": map[string]any{"k": 2}, "normalize_activations": false, "dtype": "torch.float32"}
	s, err := sae.Load(writeSAE(t, old, goodTensors()), sae.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Architecture != sae.ArchTopK || s.K != 2 || s.HookName != "blocks.2.hook_resid_post" || s.HookLayer != 2 || !s.ApplyBDecToInput || s.NormalizeActivations != sae.NormNone {
		t.Errorf("pre-6 config read as %+v", s.Config)
	}

	// bf16 and f16 weights convert to float32.
	half := goodTensors()
	half[0] = safetensors.Tensor{Name: "W_enc", DType: safetensors.BF16, Shape: []int{4, 3}, Data: bf16Bytes(12, 0.5)}
	half[2] = safetensors.Tensor{Name: "W_dec", DType: safetensors.F16, Shape: []int{3, 4}, Data: f16Bytes(12)}
	s, err = sae.Load(writeSAE(t, baseCfg(), half), sae.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.WEnc[5] != 0.5 || s.WDec[7] != 1 {
		t.Errorf("half weights read as W_enc[5]=%v (want 0.5), W_dec[7]=%v (want 1)", s.WEnc[5], s.WDec[7])
	}

	// log_threshold becomes exp(log_threshold).
	c := baseCfg()
	c["architecture"] = "jumprelu"
	lt := append(goodTensors(), safetensors.F32Tensor("log_threshold", []int{3}, []float32{0, 1, -1}))
	s, err = sae.Load(writeSAE(t, c, lt), sae.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(s.Threshold, []float32{1, 2.7182817, 0.36787945}); d > 1e-6 {
		t.Errorf("threshold from log_threshold = %v", s.Threshold)
	}

	// A subfolder of a folder.
	root := t.TempDir()
	sub := filepath.Join(root, "blocks.0.hook_resid_pre")
	src := randomSAE(sae.ArchStandard, 4, 3, "blocks.0.hook_resid_pre", 9)
	if err := src.Save(sub); err != nil {
		t.Fatal(err)
	}
	if _, err := sae.Load(root, sae.Options{Subfolder: "blocks.0.hook_resid_pre"}); err != nil {
		t.Errorf("subfolder: %v", err)
	}
}

func bf16Bytes(n int, v float32) []byte {
	b := make([]byte, 2*n)
	bits := mathFloat32bits(v) >> 16
	for i := range n {
		b[2*i], b[2*i+1] = byte(bits), byte(bits>>8)
	}
	return b
}

// f16Bytes holds n ones in IEEE half precision (0x3C00).
func f16Bytes(n int) []byte {
	b := make([]byte, 2*n)
	for i := range n {
		b[2*i], b[2*i+1] = 0x00, 0x3C
	}
	return b
}

// saveLoad saves s to a new folder and loads it back.
func saveLoad(t *testing.T, s *sae.SAE) (string, *sae.SAE) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sae")
	if err := s.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := sae.Load(dir, sae.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return dir, got
}
