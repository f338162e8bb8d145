package models

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/govene/govene/causal"
	"github.com/govene/govene/gemma2"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/internal/fsx"
	"github.com/govene/govene/llama"
	"github.com/govene/govene/neox"
)

// Loader loads a checkpoint of one family from dir, a folder holding
// config.json and the weights, with opt (Options.Hub is already used up:
// dir is local). It returns the family's errors for a bad config or
// missing, extra or misshapen weights.
type Loader func(dir string, opt Options) (Model, error)

// loaders maps config.json's model_type to the family's loader. It is a
// fixed literal: a new family is one entry here.
var loaders = map[string]Loader{
	"gpt2":     loadGPT2,
	"gpt_neox": family(neox.LoadDir),
	"llama":    family(llama.LoadDir),
	"mistral":  family(llama.LoadDir),
	"qwen2":    family(llama.LoadDir),
	"gemma2":   family(gemma2.LoadDir),
}

// family adapts a causal family's LoadDir to a Loader.
func family(load func(dir string, opt causal.Options) (*causal.Model, error)) Loader {
	return func(dir string, opt Options) (Model, error) {
		m, err := load(dir, causal.Options{Backend: opt.Backend, Workload: opt.Workload, Tokenizer: opt.Tokenizer, Devices: opt.Devices})
		if err != nil {
			return nil, err
		}
		return m, nil
	}
}

// architectures maps config.json's architectures[0] to a model_type, for
// configs without model_type.
var architectures = map[string]string{
	"GPT2LMHeadModel":    "gpt2",
	"GPTNeoXForCausalLM": "gpt_neox",
	"LlamaForCausalLM":   "llama",
	"MistralForCausalLM": "mistral",
	"Qwen2ForCausalLM":   "qwen2",
	"Gemma2ForCausalLM":  "gemma2",
}

// loadGPT2 is the gpt2 family's Loader.
func loadGPT2(dir string, opt Options) (Model, error) {
	m, err := gpt2.LoadDir(dir, opt.gpt2())
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Families returns the model_type values Load supports, sorted.
func Families() []string { return slices.Sorted(maps.Keys(loaders)) }

// maxConfigBytes is the largest config.json ReadInfo reads (16 MiB, as
// gpt2.MaxConfigBytes).
const maxConfigBytes = 16 << 20

// Info is what ReadInfo learns from a checkpoint's config.json before the
// family's loader reads it.
type Info struct {
	// Family is the model_type ("gpt2", "llama", ...), or the one
	// architectures[0] implies when model_type is missing.
	Family string
	// Layers is n_layer or num_hidden_layers (0 when neither is set), for
	// sizing a workload before loading.
	Layers int
}

// ReadInfo reads dir's config.json (a regular file of at most 16 MiB) and
// returns its family and layer count. It returns an error naming the file
// for one that is missing, too large, not JSON, or names neither a
// model_type nor a known architecture (listing the known ones).
func ReadInfo(dir string) (Info, error) {
	path := filepath.Join(dir, "config.json")
	data, err := fsx.ReadFile(path, "config.json", maxConfigBytes)
	if err != nil {
		return Info{}, fmt.Errorf("read config: %w", err)
	}
	return parseInfo(data, path)
}

// parseInfo is ReadInfo on config.json's bytes; path names the file in
// errors.
func parseInfo(data []byte, path string) (Info, error) {
	var h struct {
		ModelType       string   `json:"model_type"`
		Architectures   []string `json:"architectures"`
		NLayer          int      `json:"n_layer"`
		NumHiddenLayers int      `json:"num_hidden_layers"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return Info{}, fmt.Errorf("%s: %w", path, err)
	}
	info := Info{Family: h.ModelType, Layers: h.NumHiddenLayers}
	if h.NLayer > 0 {
		info.Layers = h.NLayer
	}
	info.Layers = max(info.Layers, 0)
	if info.Family != "" {
		return info, nil
	}
	if len(h.Architectures) == 0 {
		return Info{}, fmt.Errorf("%s: no model_type and no architectures: cannot tell the model family (supported model_type: %v)", path, Families())
	}
	if info.Family = architectures[h.Architectures[0]]; info.Family == "" {
		return Info{}, fmt.Errorf("%s: no model_type, and architectures[0] %q is not one govene knows (known: %v)", path, h.Architectures[0], slices.Sorted(maps.Keys(architectures)))
	}
	return info, nil
}
