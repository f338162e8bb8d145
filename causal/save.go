package causal

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/govene/govene/internal/checkpoint"
)

// Save writes the model to dir in Hugging Face layout: config.json (which
// transformers reads back) and model.safetensors (float32, transformers'
// names). Each file is replaced atomically, so a failed or killed save
// leaves each file either the earlier one or the new one, never a part.
// Tokenizer files and other files in dir are left alone. A sharded
// checkpoint's index in dir is removed, since model.safetensors now holds
// every weight.
func (m *Model) Save(dir string) error {
	if err := checkpoint.Save(dir, checkpointTensors(m.specs), m.params, m.arch.ConfigJSON); err != nil {
		return fmt.Errorf("%s: save %s: %w", m.Family(), dir, err)
	}
	if err := os.Remove(filepath.Join(dir, "model.safetensors.index.json")); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("%s: save %s: %w", m.Family(), dir, err)
	}
	return nil
}
