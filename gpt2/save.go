package gpt2

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/safetensors"
)

// Save writes the model to dir in Hugging Face layout: config.json and
// model.safetensors (float32, names as transformers writes them, embeddings
// tied). Each file is replaced atomically (internal/atomicfs: temporary file,
// fsync, rename), so a failed or killed save leaves each file either the
// earlier one or the new one, never a part. Tokenizer files and other files
// in dir are left alone.
func (m *Model) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("gpt2: save %s: %w", dir, err)
	}
	var ts []safetensors.Tensor
	for i, spec := range m.cfg.paramSpecs() {
		data, err := tensors.CopyFlatData[float32](m.params[i])
		if err != nil {
			return fmt.Errorf("gpt2: save %s: %s: %w", dir, spec.name, err)
		}
		ts = append(ts, safetensors.F32Tensor(spec.name, spec.shape, data))
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("gpt2: save %s: %w", dir, err)
	}
	cfg := struct {
		Config
		Architectures []string `json:"architectures"`
	}{m.cfg, []string{"GPT2LMHeadModel"}}
	cfg.ModelType = "gpt2"
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("gpt2: save %s: %w", dir, err)
	}
	if err := atomicfs.WriteFile(filepath.Join(dir, "config.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("gpt2: save %s: %w", dir, err)
	}
	return nil
}
