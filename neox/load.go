package neox

import "github.com/govene/govene/causal"

// LoadDir loads a GPT-NeoX (Pythia) checkpoint from a folder in
// Hugging Face layout (config.json, model.safetensors or a sharded
// index, and tokenizer.json when present); see causal.LoadDir for what is
// checked and the errors.
func LoadDir(dir string, opt causal.Options) (*causal.Model, error) {
	return causal.LoadFamily(dir, opt, ReadConfig, NewArch)
}

// Load loads cfg's weights (and tokenizer) from dir.
func Load(dir string, cfg Config, opt causal.Options) (*causal.Model, error) {
	return causal.LoadConfig(dir, cfg, opt, NewArch)
}

// Random returns a model with cfg's shapes and weights drawn as
// transformers initializes them (normal with std initializer_range, norm
// gains 1, biases 0), deterministically from seed. The weights are random:
// predictions are meaningless.
func Random(cfg Config, seed uint64, opt causal.Options) (*causal.Model, error) {
	return causal.RandomConfig(cfg, seed, opt, NewArch)
}
