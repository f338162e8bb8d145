package causal

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/safetensors"
)

// Save writes the model to dir in Hugging Face layout: config.json (which
// transformers reads back) and model.safetensors (float32, transformers'
// names). Each file is replaced atomically, so a failed or killed save
// leaves each file either the earlier one or the new one, never a part.
// Tokenizer files and other files in dir are left alone. A sharded
// checkpoint's index in dir is removed, since model.safetensors now holds
// every weight.
func (m *Model) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: save %s: %w", m.Family(), dir, err)
	}
	ts := make([]safetensors.Tensor, 0, len(m.specs))
	for i, p := range m.specs {
		data, err := tensors.CopyFlatData[float32](m.params[i])
		if err != nil {
			return fmt.Errorf("%s: save %s: %s: %w", m.Family(), dir, p.Name, err)
		}
		ts = append(ts, safetensors.F32Tensor(p.Name, p.Shape, data))
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("%s: save %s: %w", m.Family(), dir, err)
	}
	cfg, err := m.arch.ConfigJSON()
	if err != nil {
		return fmt.Errorf("%s: save %s: %w", m.Family(), dir, err)
	}
	if err := atomicfs.WriteFile(filepath.Join(dir, "config.json"), append(cfg, '\n'), 0o644); err != nil {
		return fmt.Errorf("%s: save %s: %w", m.Family(), dir, err)
	}
	if err := os.Remove(filepath.Join(dir, "model.safetensors.index.json")); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("%s: save %s: %w", m.Family(), dir, err)
	}
	return nil
}
