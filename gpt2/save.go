package gpt2

import (
	"encoding/json"
	"fmt"

	"github.com/govene/govene/internal/checkpoint"
)

// Save writes the model to dir in Hugging Face layout: config.json and
// model.safetensors (float32, names as transformers writes them, embeddings
// tied). Each file is replaced atomically (internal/atomicfs: temporary file,
// fsync, rename), so a failed or killed save leaves each file either the
// earlier one or the new one, never a part. Tokenizer files and other files
// in dir are left alone.
func (m *Model) Save(dir string) error {
	err := checkpoint.Save(dir, m.cfg.checkpointTensors(), m.params, func() ([]byte, error) {
		cfg := struct {
			Config
			Architectures []string `json:"architectures"`
		}{m.cfg, []string{"GPT2LMHeadModel"}}
		cfg.ModelType = "gpt2"
		return json.MarshalIndent(cfg, "", "  ")
	})
	if err != nil {
		return fmt.Errorf("gpt2: save %s: %w", dir, err)
	}
	return nil
}
