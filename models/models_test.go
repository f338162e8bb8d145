package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/hub"
)

func TestResolve(t *testing.T) {
	for _, tt := range []struct{ env, name, want string }{
		{"", "", Shipped},
		{"gpt2", "", "gpt2"},
		{"gpt2", "shipped", "shipped"},
		{"", "/some/dir", "/some/dir"},
	} {
		t.Setenv(Env, tt.env)
		if got := Resolve(tt.name); got != tt.want {
			t.Errorf("Resolve(%q) with $%s=%q = %q, want %q", tt.name, Env, tt.env, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Setenv(Env, "")
	m, err := Load("", Options{})
	if err != nil || m.Dims().Layers != 8 {
		t.Fatalf("Load(\"\") = %v, %v; want the shipped 8-layer model", m, err)
	}
	if m.Family() != "gpt2" {
		t.Errorf("shipped Family() = %q, want gpt2", m.Family())
	}
	if _, err := TokenID(m, " Paris"); err != nil {
		t.Error(err)
	}
	if _, err := TokenID(m, " Paris France"); err == nil || !strings.Contains(err.Error(), `" Paris France" is not one token`) {
		t.Errorf("multi-token TokenID: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := Load(missing, Options{Hub: hub.Options{Offline: true}}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(%q): %v; want an error naming it", missing, err)
	}
}

// writeConfig writes a checkpoint folder whose config.json is cfg.
func writeConfig(t *testing.T, cfg string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLoadDispatch loads a folder through config.json's family: a GPT-2
// folder (by model_type, and by architectures alone) loads as GPT-2; other
// configs give errors naming what is wrong.
func TestLoadDispatch(t *testing.T) {
	small := gpt2.Config{NLayer: 2, NHead: 2, NEmbd: 8, NPositions: 16, VocabSize: 50257, ActivationFunction: "gelu_new",
		LayerNormEpsilon: 1e-5, BOSTokenID: 50256, EOSTokenID: 50256}
	r, err := gpt2.Random(small, 1, gpt2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	byType := filepath.Join(t.TempDir(), "gpt2")
	if err := r.Save(byType); err != nil {
		t.Fatal(err)
	}
	m, err := Load(byType, Options{})
	if err != nil {
		t.Fatalf("Load(%s): %v", byType, err)
	}
	if m.Family() != "gpt2" || m.Dims().Layers != 2 || m.Source() != byType {
		t.Errorf("Load(%s) = %s (family %q, %d layers), want the 2-layer gpt2 saved there", byType, m, m.Family(), m.Dims().Layers)
	}

	for _, tt := range []struct {
		name, cfg string
		want      []string // each must appear in the error
	}{
		{"unknown model_type", `{"model_type": "bert"}`, []string{`model_type "bert" is not supported`, "supported: [gemma2 gpt2 gpt_neox llama mistral qwen2]"}},
		{"family from architectures", `{"architectures": ["LlamaForCausalLM"]}`, []string{`llama: load`, "no model.safetensors"}},
		{"unknown architecture", `{"architectures": ["BertModel"]}`, []string{`architectures[0] "BertModel" is not one govene knows`, "GPT2LMHeadModel"}},
		{"no family", `{"n_layer": 2}`, []string{"no model_type and no architectures"}},
		{"not JSON", `{"model_type": `, []string{"config.json"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConfig(t, tt.cfg)
			_, err := Load(dir, Options{})
			if err == nil {
				t.Fatalf("Load(%s) with config %s: no error", dir, tt.cfg)
			}
			for _, w := range append(tt.want, dir) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load with config %s: %v; want it to say %q", tt.cfg, err, w)
				}
			}
		})
	}
}

func TestParseInfo(t *testing.T) {
	for _, tt := range []struct {
		cfg  string
		want Info
	}{
		{`{"model_type": "gpt2", "n_layer": 12}`, Info{"gpt2", 12}},
		{`{"architectures": ["GPT2LMHeadModel"], "n_layer": 3}`, Info{"gpt2", 3}},
		{`{"architectures": ["GPTNeoXForCausalLM"], "num_hidden_layers": 6}`, Info{"gpt_neox", 6}},
		{`{"architectures": ["MistralForCausalLM"]}`, Info{"mistral", 0}},
		{`{"architectures": ["Qwen2ForCausalLM"]}`, Info{"qwen2", 0}},
		{`{"architectures": ["Gemma2ForCausalLM"]}`, Info{"gemma2", 0}},
		{`{"model_type": "llama", "architectures": ["GPT2LMHeadModel"], "num_hidden_layers": -1}`, Info{"llama", 0}},
	} {
		got, err := parseInfo([]byte(tt.cfg), "config.json")
		if err != nil || got != tt.want {
			t.Errorf("parseInfo(%s) = %+v, %v; want %+v", tt.cfg, got, err, tt.want)
		}
	}
}

// TestReadInfoBounded checks that config.json is read with a size cap and
// only as a regular file.
func TestReadInfoBounded(t *testing.T) {
	big := writeConfig(t, `{"model_type": "gpt2", "pad": "`+strings.Repeat("x", maxConfigBytes)+`"}`)
	if _, err := ReadInfo(big); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("ReadInfo of a %d-byte config.json: %v; want a too-large error", maxConfigBytes+30, err)
	}
	dirCfg := t.TempDir()
	if err := os.Mkdir(filepath.Join(dirCfg, "config.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadInfo(dirCfg); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("ReadInfo of a config.json directory: %v; want an error saying it is a directory", err)
	}
}
