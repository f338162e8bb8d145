package gpt2

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/govene/govene/internal/fsx"
	"github.com/govene/govene/internal/transformer"
)

// Limits on a configuration, checked by Validate before anything is
// allocated from it. They are far above every published GPT-2 checkpoint
// (GPT-2 XL: 48 layers, 25 heads, n_embd 1600, 1024 positions, vocabulary
// 50257, 1.56e9 weights) and keep a hostile config.json from asking for
// terabytes.
const (
	MaxNLayer     = 1024    // n_layer
	MaxNHead      = 1024    // n_head
	MaxNEmbd      = 1 << 16 // n_embd: 65536
	MaxNInner     = 1 << 18 // n_inner: 262144 (4 * MaxNEmbd)
	MaxNPositions = 1 << 20 // n_positions: 1048576
	MaxVocabSize  = 1 << 21 // vocab_size: 2097152
	// MaxParams bounds the number of weights the config implies
	// (NumParams): 2^32 float32 values are 16 GiB.
	MaxParams = 1 << 32
	// MaxConfigBytes is the largest config.json ReadConfig reads (16 MiB).
	MaxConfigBytes = 16 << 20
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
var Activations = transformer.ActivationNames

// DefaultConfig returns GPT-2 small's configuration.
func DefaultConfig() Config {
	return Config{NLayer: 12, NHead: 12, NEmbd: 768, NPositions: 1024, VocabSize: 50257,
		LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new", BOSTokenID: 50256, EOSTokenID: 50256, ModelType: "gpt2"}
}

// Inner returns the MLP width: n_inner when set (and positive), else
// 4*n_embd.
func (c Config) Inner() int {
	if c.NInner != nil && *c.NInner > 0 {
		return *c.NInner
	}
	return 4 * c.NEmbd
}

// HeadDim returns n_embd / n_head (0 when n_head is not positive).
func (c Config) HeadDim() int {
	if c.NHead <= 0 {
		return 0
	}
	return c.NEmbd / c.NHead
}

// Validate checks the configuration and returns an error naming every bad
// field, its value and its valid range or values, or nil. It is the one
// place where a configuration's sizes are checked: every size must be in
// [1, Max<Field>] (n_inner may also be null or 0, meaning 4*n_embd), and the
// number of weights the sizes imply must be at most MaxParams, so that a
// valid Config can be allocated (Random) or compared with a file
// (LoadDir) without overflow.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	inRange := func(field string, v, max int) bool {
		if v < 1 || v > max {
			bad(field, "%d is out of range; valid: [1, %d]", v, max)
			return false
		}
		return true
	}
	if c.ModelType != "" && c.ModelType != "gpt2" {
		bad("model_type", "%q is not supported; govene loads \"gpt2\" checkpoints", c.ModelType)
	}
	sizesOK := inRange("n_layer", c.NLayer, MaxNLayer)
	sizesOK = inRange("n_head", c.NHead, MaxNHead) && sizesOK
	if inRange("n_embd", c.NEmbd, MaxNEmbd) {
		if c.NHead >= 1 && c.NEmbd%c.NHead != 0 {
			bad("n_embd", "%d must be divisible by n_head=%d", c.NEmbd, c.NHead)
		}
	} else {
		sizesOK = false
	}
	sizesOK = inRange("n_positions", c.NPositions, MaxNPositions) && sizesOK
	sizesOK = inRange("vocab_size", c.VocabSize, MaxVocabSize) && sizesOK
	if c.NInner != nil && (*c.NInner < 0 || *c.NInner > MaxNInner) {
		bad("n_inner", "%d is out of range; valid: null, 0 (both mean 4*n_embd) or [1, %d]", *c.NInner, MaxNInner)
		sizesOK = false
	}
	if sizesOK {
		if n := c.numParamsFloat(); n > MaxParams {
			bad("model size", "n_layer=%d, n_embd=%d, n_inner=%d, vocab_size=%d and n_positions=%d imply %.0f weights; valid: at most %d",
				c.NLayer, c.NEmbd, c.Inner(), c.VocabSize, c.NPositions, n, int64(MaxParams))
		}
	}
	if !(c.LayerNormEpsilon > 0 && c.LayerNormEpsilon < 1) || math.IsNaN(c.LayerNormEpsilon) {
		bad("layer_norm_epsilon", "%g is out of range; valid: (0, 1)", c.LayerNormEpsilon)
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
// transformers' GPT2Config defaults. Malformed JSON or a field of the wrong
// type gives an error naming the field; an invalid value, Validate's error.
func ParseConfig(data []byte) (Config, error) {
	c := DefaultConfig()
	c.ModelType = ""
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return Config{}, fmt.Errorf("gpt2: parse config: want a JSON object, got %s", describeStart(t))
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("gpt2: parse config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// describeStart describes the first bytes of a value that is not a JSON
// object, for error messages.
func describeStart(b []byte) string {
	if len(b) == 0 {
		return "an empty file"
	}
	if len(b) > 20 {
		b = b[:20]
	}
	return fmt.Sprintf("%q", b)
}

// ReadConfig reads and validates the config.json at path. The path must be
// a regular file (or a link to one) of at most MaxConfigBytes: a directory,
// a named pipe or a device such as /dev/zero is refused without being read.
func ReadConfig(path string) (Config, error) {
	data, err := fsx.ReadFile(path, "config.json", MaxConfigBytes)
	if err != nil {
		return Config{}, fmt.Errorf("gpt2: read config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
}
