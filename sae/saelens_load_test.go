package sae_test

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/govene/govene/sae"
	"github.com/govene/govene/safetensors"
)

// saeLensPython returns the python with sae-lens: GOVENE_SAE_PYTHON, else
// oracle/.venv-sae (oracle/setup_sae.sh makes it); it skips the test when
// there is none.
func saeLensPython(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GOVENE_SAE_PYTHON"); p != "" {
		return p
	}
	p, _ := filepath.Abs(filepath.Join("..", "oracle", ".venv-sae", "bin", "python"))
	if _, err := os.Stat(p); err != nil {
		t.Skip("no sae-lens python: run oracle/setup_sae.sh or set GOVENE_SAE_PYTHON")
	}
	return p
}

// flatten returns the numbers of a nested JSON list in order.
func flatten(v any, out []float32) []float32 {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = flatten(e, out)
		}
	case float64:
		out = append(out, float32(x))
	}
	return out
}

// TestSAELensLoadsSaved: sae-lens 6 loads what Save writes, picks the
// architecture's class, and encodes and reconstructs as govene does.
func TestSAELensLoadsSaved(t *testing.T) {
	py := saeLensPython(t)
	const d, n, rows = 8, 20, 6
	x := make([]float32, rows*d)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)*0.37)) * 1.7
	}
	inputs := filepath.Join(t.TempDir(), "x.safetensors")
	if err := safetensors.Write(inputs, []safetensors.Tensor{safetensors.F32Tensor("x", []int{rows, d}, x)}, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, class string
		make        func() *sae.SAE
	}{
		{"standard", "StandardSAE", func() *sae.SAE { return randomSAE(sae.ArchStandard, d, n, "blocks.0.hook_resid_pre", 1) }},
		{"topk rescaled", "TopKSAE", func() *sae.SAE {
			s := randomSAE(sae.ArchTopK, d, n, "blocks.0.hook_resid_pre", 2)
			s.RescaleActsByDecoderNorm = true
			return s
		}},
		{"jumprelu", "JumpReLUSAE", func() *sae.SAE { return randomSAE(sae.ArchJumpReLU, d, n, "blocks.1.hook_mlp_out", 3) }},
		{"constant norm, no b_dec", "StandardSAE", func() *sae.SAE {
			s := randomSAE(sae.ArchStandard, d, n, "blocks.0.hook_resid_post", 4)
			s.NormalizeActivations, s.ApplyBDecToInput = sae.NormConstantRescale, false
			return s
		}},
		{"layer norm", "StandardSAE", func() *sae.SAE {
			s := randomSAE(sae.ArchStandard, d, n, "blocks.0.hook_resid_post", 5)
			s.NormalizeActivations = sae.NormLayerNorm
			return s
		}},
	}
	// One python process loads every folder (importing sae-lens takes
	// seconds): for each, its class, config, encode(x) and decode(encode(x)).
	root := t.TempDir()
	var dirs []string
	saes := make([]*sae.SAE, len(cases))
	for i, tc := range cases {
		saes[i] = tc.make()
		dir := filepath.Join(root, strconv.Itoa(i))
		if err := saes[i].Save(dir); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	cmd := exec.Command(py, append([]string{"-c", loadAll, inputs}, dirs...)...)
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("sae-lens: %v", err)
	}
	var all []struct {
		Class       string         `json:"class"`
		Cfg         map[string]any `json:"cfg"`
		FeatureActs any            `json:"feature_acts"`
		Decoded     any            `json:"decoded"`
	}
	if err := json.Unmarshal(raw, &all); err != nil || len(all) != len(cases) {
		t.Fatalf("sae-lens output: %d results (want %d), %v", len(all), len(cases), err)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, got := saes[i], all[i]
			md, _ := got.Cfg["metadata"].(map[string]any)
			if got.Class != tc.class || md["hook_name"] != s.HookName || got.Cfg["normalize_activations"] != s.NormalizeActivations {
				t.Errorf("sae-lens read class %q, metadata %v, cfg %v", got.Class, md, got.Cfg)
			}
			f, _ := s.Encode(x)
			r, _ := s.Reconstruct(x)
			if dd := maxAbsDiff(flatten(got.FeatureActs, nil), f); dd > 1e-5 {
				t.Errorf("encode differs from sae-lens' by %g", dd)
			}
			if dd := maxAbsDiff(flatten(got.Decoded, nil), r); dd > 1e-5 {
				t.Errorf("reconstruction differs from sae-lens' by %g", dd)
			}
		})
	}
}

// loadAll is the python program of TestSAELensLoadsSaved: argv[1] is a
// safetensors file with x, the rest SAE folders; it prints a JSON list.
const loadAll = `
import json, sys, warnings
warnings.filterwarnings("ignore")
import torch, safetensors.torch
from sae_lens import SAE
x = safetensors.torch.load_file(sys.argv[1])["x"]
out = []
for d in sys.argv[2:]:
    sae = SAE.load_from_disk(d, device="cpu").eval()
    with torch.no_grad():
        f = sae.encode(x)
        r = sae.decode(f)
    out.append({"class": type(sae).__name__, "cfg": sae.cfg.to_dict(), "feature_acts": f.tolist(), "decoded": r.tolist()})
print(json.dumps(out))
`
