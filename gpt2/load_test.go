package gpt2

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/safetensors"
)

func tinyConfig() Config {
	c := DefaultConfig()
	c.NLayer, c.NHead, c.NEmbd, c.VocabSize, c.NPositions = 2, 2, 8, 300, 16
	return c
}

// savedTiny saves a random tiny model to a fresh folder and returns both.
func savedTiny(t *testing.T) (*Model, string) {
	t.Helper()
	m, err := Random(tinyConfig(), 7, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	return m, dir
}

func logitsOf(t *testing.T, m *Model, ids ...int) []float32 {
	t.Helper()
	r, err := m.Run([]lm.Prompt{{IDs: ids}})
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](r.Logits)
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m, dir := savedTiny(t)
	m2, err := LoadDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m2.Config() != m.Config() {
		t.Errorf("config changed: %+v vs %+v", m2.Config(), m.Config())
	}
	a, b := logitsOf(t, m, 1, 2, 3), logitsOf(t, m2, 1, 2, 3)
	if !slices.Equal(a, b) {
		t.Error("reloaded model gives different logits")
	}
	// Load resolves a folder too.
	if _, err := Load(dir); err != nil {
		t.Error(err)
	}
}

// rewrite rewrites dir's model.safetensors through edit.
func rewrite(t *testing.T, dir string, edit func([]safetensors.Tensor) []safetensors.Tensor) {
	t.Helper()
	path := filepath.Join(dir, "model.safetensors")
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, n := range f.Names() {
		raw, info, err := f.Raw(n)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.Tensor{Name: n, DType: info.DType, Shape: info.Shape, Data: slices.Clone(raw)})
	}
	f.Close()
	if err := safetensors.Write(path, edit(ts), nil); err != nil {
		t.Fatal(err)
	}
}

func TestLoadBadCheckpoints(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   []string
	}{
		{"truncated weights", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			st, _ := os.Stat(p)
			if err := os.Truncate(p, st.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, []string{"model.safetensors"}},
		{"header lies about its length", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			data, _ := os.ReadFile(p)
			binary.LittleEndian.PutUint64(data, uint64(len(data)+100))
			os.WriteFile(p, data, 0o644)
		}, []string{"model.safetensors", "header"}},
		{"corrupt header json", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			data, _ := os.ReadFile(p)
			data[9] = '!'
			os.WriteFile(p, data, 0o644)
		}, []string{"model.safetensors"}},
		{"missing tensor", func(t *testing.T, dir string) {
			rewrite(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == "h.1.mlp.c_fc.bias" })
			})
		}, []string{"missing 1 tensors", "h.1.mlp.c_fc.bias"}},
		{"extra tensor", func(t *testing.T, dir string) {
			rewrite(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				return append(ts, safetensors.F32Tensor("h.2.ln_1.weight", []int{8}, make([]float32, 8)))
			})
		}, []string{"unexpected tensors", "h.2.ln_1.weight", "n_layer=2"}},
		{"wrong shape", func(t *testing.T, dir string) {
			rewrite(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				for i := range ts {
					if ts[i].Name == "h.0.attn.c_attn.weight" {
						ts[i] = safetensors.F32Tensor(ts[i].Name, []int{8, 25}, make([]float32, 200))
					}
				}
				return ts
			})
		}, []string{"h.0.attn.c_attn.weight", "[8 25]", "[8 24]"}},
		{"wrong dtype", func(t *testing.T, dir string) {
			rewrite(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				for i := range ts {
					if ts[i].Name == "ln_f.bias" {
						ts[i] = safetensors.I64Tensor(ts[i].Name, []int{8}, make([]int64, 8))
					}
				}
				return ts
			})
		}, []string{"ln_f.bias", "I64"}},
		{"config does not match weights", func(t *testing.T, dir string) {
			c := tinyConfig()
			c.NEmbd, c.NHead = 16, 4
			m, _ := Random(c, 1, Options{})
			data, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
			m.Save(dir)                                                        // writes the 16-wide config...
			os.WriteFile(filepath.Join(dir, "model.safetensors"), data, 0o644) // ...over 8-wide weights
		}, []string{"wte.weight", "n_embd=16"}},
		{"invalid config", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"n_embd": 10, "n_head": 3}`), 0o644)
		}, []string{"config.json", "n_embd: 10 must be divisible by n_head=3"}},
		{"no config", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "config.json"))
		}, []string{"config.json"}},
		{"no weights", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "model.safetensors"))
		}, []string{"no model.safetensors"}},
		{"corrupt tokenizer", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "vocab.json"), []byte(`{"a":`), 0o644)
			os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\n"), 0o644)
		}, []string{"vocab.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir := savedTiny(t)
			tt.break_(t, dir)
			_, err := LoadDir(dir, Options{})
			if err == nil {
				t.Fatalf("loaded a broken checkpoint")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestRunBadInput(t *testing.T) {
	m, err := Random(tinyConfig(), 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := make([]int, 17)
	tests := []struct {
		name    string
		prompts []lm.Prompt
		sites   []lm.Site
		want    string
	}{
		{"id past vocab", []lm.Prompt{{IDs: []int{1, 300}}}, nil, "id 300 out of range [0, 300)"},
		{"negative id", []lm.Prompt{{IDs: []int{-2}}}, nil, "id -2 out of range"},
		{"too long", []lm.Prompt{{IDs: long}}, nil, "takes at most 16"},
		{"empty", []lm.Prompt{{}}, nil, "empty"},
		{"no prompts", nil, nil, "no prompts"},
		{"layer out of range", []lm.Prompt{{IDs: []int{1}}}, []lm.Site{{Layer: 2, Component: lm.BlockOutput}}, "layer 2 out of range [0, 2)"},
		{"unknown component", []lm.Prompt{{IDs: []int{1}}}, []lm.Site{{Layer: 0, Component: "resid_post"}}, "unknown component \"resid_post\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Run(tt.prompts, tt.sites...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadNotFoundOffline(t *testing.T) {
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	t.Setenv("HF_HUB_OFFLINE", "1")
	_, err := Load("gpt2-xl")
	if err == nil {
		t.Fatal("loaded a model that is nowhere")
	}
	for _, w := range []string{"gpt2-xl", "HF_"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if _, err := Load(""); err == nil {
		t.Error("Load(\"\") should fail")
	}
}

// TestPaddingDoesNotChangeResults checks that a prompt gives the same logits
// alone and left-padded in a batch with a longer prompt.
func TestPaddingDoesNotChangeResults(t *testing.T) {
	m, err := Random(tinyConfig(), 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	short := lm.Prompt{IDs: []int{5, 9, 11}}
	long := lm.Prompt{IDs: []int{1, 2, 3, 4, 5, 6, 7}}
	alone, err := m.Run([]lm.Prompt{short})
	if err != nil {
		t.Fatal(err)
	}
	batched, err := m.Run([]lm.Prompt{long, short})
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := alone.Row(alone.Logits, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	b, shape, err := batched.Row(batched.Logits, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, []int{3, 300}) {
		t.Fatalf("Row shape %v", shape)
	}
	for i := range a {
		if d := a[i] - b[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("logit %d: alone %g, padded %g", i, a[i], b[i])
		}
	}
}
