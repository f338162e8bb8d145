package gpt2

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/safetensors"
)

// Save writes the model to dir in Hugging Face layout: config.json and
// model.safetensors (float32, names as transformers writes them, embeddings
// tied). Each file is written to a temporary file and renamed into place, so
// a failed save leaves any earlier checkpoint in dir intact. Tokenizer files
// are not written.
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
	return writeFileAtomic(filepath.Join(dir, "config.json"), append(data, '\n'))
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path.
func writeFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("gpt2: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("gpt2: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("gpt2: write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("gpt2: write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("gpt2: write %s: %w", path, err)
	}
	return nil
}
