package gpt2

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Config holds the fields of a Hugging Face GPT-2 config.json that govene
// uses. Unknown fields are ignored, as transformers does.
type Config struct {
	NLayer                     int     `json:"n_layer"`
	NHead                      int     `json:"n_head"`
	NEmbd                      int     `json:"n_embd"`
	NPositions                 int     `json:"n_positions"`
	VocabSize                  int     `json:"vocab_size"`
	NInner                     *int    `json:"n_inner,omitempty"` // nil or null: 4*n_embd
	LayerNormEpsilon           float64 `json:"layer_norm_epsilon"`
	ActivationFunction         string  `json:"activation_function"`
	ScaleAttnWeights           *bool   `json:"scale_attn_weights,omitempty"` // default true
	ScaleAttnByInverseLayerIdx bool    `json:"scale_attn_by_inverse_layer_idx,omitempty"`
	ReorderAndUpcastAttn       bool    `json:"reorder_and_upcast_attn,omitempty"`
	BOSTokenID                 int     `json:"bos_token_id"`
	EOSTokenID                 int     `json:"eos_token_id"`
	ModelType                  string  `json:"model_type,omitempty"`
}

// Activations lists the activation_function values govene supports, with
// transformers' meaning: gelu_new, gelu_pytorch_tanh and gelu_fast are the
// tanh approximation; gelu is the exact erf form; relu; silu (swish).
var Activations = []string{"gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "relu", "silu", "swish"}

// DefaultConfig returns GPT-2 small's configuration.
func DefaultConfig() Config {
	return Config{NLayer: 12, NHead: 12, NEmbd: 768, NPositions: 1024, VocabSize: 50257,
		LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new", BOSTokenID: 50256, EOSTokenID: 50256, ModelType: "gpt2"}
}

// Inner returns the MLP width: n_inner when set, else 4*n_embd.
func (c Config) Inner() int {
	if c.NInner != nil && *c.NInner > 0 {
		return *c.NInner
	}
	return 4 * c.NEmbd
}

// HeadDim returns n_embd / n_head.
func (c Config) HeadDim() int { return c.NEmbd / c.NHead }

// Validate checks the configuration and returns an error naming every bad
// field and its valid values, or nil.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if c.ModelType != "" && c.ModelType != "gpt2" {
		bad("model_type", "%q is not supported; govene loads \"gpt2\" checkpoints", c.ModelType)
	}
	if c.NLayer <= 0 {
		bad("n_layer", "%d must be positive", c.NLayer)
	}
	if c.NHead <= 0 {
		bad("n_head", "%d must be positive", c.NHead)
	}
	if c.NEmbd <= 0 {
		bad("n_embd", "%d must be positive", c.NEmbd)
	} else if c.NHead > 0 && c.NEmbd%c.NHead != 0 {
		bad("n_embd", "%d must be divisible by n_head=%d", c.NEmbd, c.NHead)
	}
	if c.NPositions <= 0 {
		bad("n_positions", "%d must be positive", c.NPositions)
	}
	if c.VocabSize <= 0 {
		bad("vocab_size", "%d must be positive", c.VocabSize)
	}
	if c.NInner != nil && *c.NInner < 0 {
		bad("n_inner", "%d must be positive or null", *c.NInner)
	}
	if !(c.LayerNormEpsilon > 0 && c.LayerNormEpsilon < 1) {
		bad("layer_norm_epsilon", "%g must be in (0, 1)", c.LayerNormEpsilon)
	}
	if !slices.Contains(Activations, c.ActivationFunction) {
		bad("activation_function", "%q is not supported; valid: %s", c.ActivationFunction, strings.Join(Activations, ", "))
	}
	if c.ReorderAndUpcastAttn {
		bad("reorder_and_upcast_attn", "true is not supported (govene computes attention in float32 already; set it to false)")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gpt2: invalid config: %w", err)
	}
	return nil
}

// ParseConfig parses and validates a config.json. Missing fields take
// transformers' GPT2Config defaults.
func ParseConfig(data []byte) (Config, error) {
	c := DefaultConfig()
	c.ModelType = ""
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("gpt2: parse config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ReadConfig reads and validates the config.json at path.
func ReadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("gpt2: read config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
}
