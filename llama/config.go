package llama

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/govene/govene/causal"
)

// Families are the model_type values this package reads.
var Families = []string{"llama", "mistral", "qwen2"}

// Config is a Llama, Mistral or Qwen2 config.json: the fields govene
// reads, with transformers' names. Missing fields take transformers'
// defaults for the ModelType.
type Config struct {
	ModelType             string   `json:"model_type"`
	Architectures         []string `json:"architectures,omitempty"`
	VocabSize             int      `json:"vocab_size"`
	HiddenSize            int      `json:"hidden_size"`
	IntermediateSize      int      `json:"intermediate_size"`
	NumHiddenLayers       int      `json:"num_hidden_layers"`
	NumAttentionHeads     int      `json:"num_attention_heads"`
	NumKeyValueHeads      int      `json:"num_key_value_heads,omitempty"`
	HeadDim               int      `json:"head_dim,omitempty"`
	HiddenAct             string   `json:"hidden_act"`
	MaxPositionEmbeddings int      `json:"max_position_embeddings"`
	RMSNormEps            float64  `json:"rms_norm_eps"`
	InitializerRange      float64  `json:"initializer_range"`
	TieWordEmbeddings     bool     `json:"tie_word_embeddings"`
	// AttentionBias gives Llama's q, k, v and o projections biases
	// (Qwen2's q, k and v always have them, and its o never).
	AttentionBias bool `json:"attention_bias,omitempty"`
	MLPBias       bool `json:"mlp_bias,omitempty"`

	RopeTheta      float64                `json:"rope_theta,omitempty"`
	RopeScaling    *causal.RopeParameters `json:"rope_scaling,omitempty"`
	RopeParameters *causal.RopeParameters `json:"rope_parameters,omitempty"`

	// SlidingWindow (Mistral, Qwen2) limits attention to that many keys;
	// nil or 0 means none. Qwen2 applies it only with UseSlidingWindow, to
	// layers from MaxWindowLayers on; LayerTypes, when set, says per layer
	// ("sliding_attention" or "full_attention").
	SlidingWindow    *int     `json:"sliding_window,omitempty"`
	UseSlidingWindow bool     `json:"use_sliding_window,omitempty"`
	MaxWindowLayers  int      `json:"max_window_layers,omitempty"`
	LayerTypes       []string `json:"layer_types,omitempty"`

	BOSTokenID causal.TokenID `json:"bos_token_id"`
	EOSTokenID causal.TokenID `json:"eos_token_id"`
}

// DefaultConfig returns transformers' defaults for modelType ("llama",
// "mistral" or "qwen2"), or Llama's for any other value.
func DefaultConfig(modelType string) Config {
	c := Config{ModelType: "llama", VocabSize: 32000, HiddenSize: 4096, IntermediateSize: 11008,
		NumHiddenLayers: 32, NumAttentionHeads: 32, HiddenAct: "silu", MaxPositionEmbeddings: 2048,
		RMSNormEps: 1e-6, InitializerRange: 0.02, RopeTheta: 10000, BOSTokenID: 1, EOSTokenID: 2}
	switch modelType {
	case "mistral":
		c.ModelType, c.IntermediateSize, c.NumKeyValueHeads, c.MaxPositionEmbeddings = "mistral", 14336, 8, 4096*32
		c.RMSNormEps = 1e-6
		w := 4096
		c.SlidingWindow = &w
	case "qwen2":
		c.ModelType, c.VocabSize, c.IntermediateSize, c.NumKeyValueHeads = "qwen2", 151936, 22016, 32
		c.MaxPositionEmbeddings, c.MaxWindowLayers = 32768, 28
		w := 4096
		c.SlidingWindow = &w
		c.BOSTokenID, c.EOSTokenID = -1, -1
	}
	return c
}

// ParseConfig parses and validates a config.json whose model_type is one
// of Families. Malformed JSON or a field of the wrong type gives an error
// naming the field; an invalid value, Validate's error.
func ParseConfig(data []byte) (Config, error) {
	var head struct {
		ModelType string `json:"model_type"`
	}
	if err := causal.ParseJSON("llama", data, &head); err != nil {
		return Config{}, err
	}
	c := DefaultConfig(head.ModelType)
	return causal.ParseConfig(c.ModelType, data, c)
}

// ReadConfig reads and validates the config.json at path.
func ReadConfig(path string) (Config, error) {
	return causal.ReadConfig("llama", path, ParseConfig)
}

// KVHeads returns num_key_value_heads, or num_attention_heads when unset.
func (c Config) KVHeads() int {
	if c.NumKeyValueHeads > 0 {
		return c.NumKeyValueHeads
	}
	return c.NumAttentionHeads
}

// HeadSize returns head_dim, or hidden_size/num_attention_heads when unset.
func (c Config) HeadSize() int {
	if c.HeadDim > 0 {
		return c.HeadDim
	}
	if c.NumAttentionHeads <= 0 {
		return 0
	}
	return c.HiddenSize / c.NumAttentionHeads
}

// Rope returns the resolved rotary settings.
func (c Config) Rope() (causal.Rope, error) {
	return causal.ResolveRope(c.RopeTheta, 1, c.RopeScaling, c.RopeParameters)
}

// Window returns layer l's sliding window (0: full attention).
func (c Config) Window(l int) int {
	if c.SlidingWindow == nil || *c.SlidingWindow <= 0 {
		return 0
	}
	if len(c.LayerTypes) > 0 {
		if l < len(c.LayerTypes) && c.LayerTypes[l] == "sliding_attention" {
			return *c.SlidingWindow
		}
		return 0
	}
	switch c.ModelType {
	case "mistral":
		return *c.SlidingWindow
	case "qwen2":
		if c.UseSlidingWindow && l >= c.MaxWindowLayers {
			return *c.SlidingWindow
		}
	}
	return 0
}

// Validate returns an error naming every bad field, its value and the
// valid range or choices.
func (c Config) Validate() error {
	fam := c.ModelType
	var errs []error
	if !slices.Contains(Families, fam) {
		errs = append(errs, fmt.Errorf("llama: config model_type %q; valid: %v", fam, Families))
	}
	errs = append(errs, causal.CheckCore(fam, causal.CoreSizes{Vocab: c.VocabSize, Hidden: c.HiddenSize,
		Inner: c.IntermediateSize, Layers: c.NumHiddenLayers, Heads: c.NumAttentionHeads,
		Positions: c.MaxPositionEmbeddings, Grouped: true, KVHeads: c.KVHeads(), HeadDim: c.HeadSize()}))
	if c.HeadDim == 0 && c.NumAttentionHeads > 0 && c.HiddenSize%c.NumAttentionHeads != 0 {
		errs = append(errs, fmt.Errorf("%s: config hidden_size = %d is not a multiple of num_attention_heads = %d (and head_dim is not set)", fam, c.HiddenSize, c.NumAttentionHeads))
	}
	errs = append(errs, causal.CheckEps(fam, "rms_norm_eps", c.RMSNormEps))
	if r, err := c.Rope(); err != nil {
		errs = append(errs, fmt.Errorf("%s: config %w", fam, err))
	} else if err := rotary(r, c.HeadSize()).Validate(c.HeadSize()); err != nil && c.HeadSize() >= 2 {
		errs = append(errs, fmt.Errorf("%s: config: %w", fam, err))
	}
	if _, err := activation(c.HiddenAct); err != nil {
		errs = append(errs, fmt.Errorf("%s: config hidden_act: %w", fam, err))
	}
	errs = append(errs, causal.CheckLayerTypes(fam, c.LayerTypes, c.NumHiddenLayers))
	if c.InitializerRange < 0 || math.IsNaN(c.InitializerRange) {
		errs = append(errs, fmt.Errorf("%s: config initializer_range = %g; valid: >= 0", fam, c.InitializerRange))
	}
	errs = append(errs, causal.CheckWeights(fam, c.NumParams()))
	return errors.Join(errs...)
}

// NumParams returns the number of weights, in float64 (which cannot
// overflow for sizes that fail Validate).
func (c Config) NumParams() float64 {
	d, in := float64(c.HiddenSize), float64(c.IntermediateSize)
	q, kv := float64(c.NumAttentionHeads*c.HeadSize()), float64(c.KVHeads()*c.HeadSize())
	layer := 2*d + d*q + 2*d*kv + q*d + 3*d*in
	return causal.CountWeights(c.VocabSize, c.HiddenSize, c.NumHiddenLayers, layer, d, c.TieWordEmbeddings)
}

// configJSON is what Save writes: the config with the architecture name
// transformers looks up.
func (c Config) configJSON() ([]byte, error) {
	arch := map[string]string{"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"}[c.ModelType]
	c.Architectures = []string{arch}
	return json.MarshalIndent(c, "", "  ")
}
