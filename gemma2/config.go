package gemma2

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/govene/govene/causal"
	"github.com/govene/govene/internal/transformer"
)

// Config is a Gemma 2 config.json: the fields govene reads, with
// transformers' names. Missing fields take transformers' Gemma2Config
// defaults.
type Config struct {
	ModelType             string   `json:"model_type"`
	Architectures         []string `json:"architectures,omitempty"`
	VocabSize             int      `json:"vocab_size"`
	HiddenSize            int      `json:"hidden_size"`
	IntermediateSize      int      `json:"intermediate_size"`
	NumHiddenLayers       int      `json:"num_hidden_layers"`
	NumAttentionHeads     int      `json:"num_attention_heads"`
	NumKeyValueHeads      int      `json:"num_key_value_heads"`
	HeadDim               int      `json:"head_dim"`
	HiddenActivation      string   `json:"hidden_activation"`
	MaxPositionEmbeddings int      `json:"max_position_embeddings"`
	RMSNormEps            float64  `json:"rms_norm_eps"`
	InitializerRange      float64  `json:"initializer_range"`
	TieWordEmbeddings     bool     `json:"tie_word_embeddings"`
	AttentionBias         bool     `json:"attention_bias,omitempty"`

	RopeTheta      float64                `json:"rope_theta,omitempty"`
	RopeScaling    *causal.RopeParameters `json:"rope_scaling,omitempty"`
	RopeParameters *causal.RopeParameters `json:"rope_parameters,omitempty"`

	// QueryPreAttnScalar: scores are scaled by its inverse square root
	// (not head_dim's).
	QueryPreAttnScalar float64 `json:"query_pre_attn_scalar"`
	// SlidingWindow is the window of the "sliding_attention" layers of
	// LayerTypes (by default every other layer, from layer 0).
	SlidingWindow int      `json:"sliding_window"`
	LayerTypes    []string `json:"layer_types,omitempty"`
	// AttnLogitSoftcapping and FinalLogitSoftcapping cap the attention
	// scores and the logits (tanh(x/cap)*cap); 0 or null: none.
	AttnLogitSoftcapping  *float64 `json:"attn_logit_softcapping"`
	FinalLogitSoftcapping *float64 `json:"final_logit_softcapping"`

	BOSTokenID causal.TokenID `json:"bos_token_id"`
	EOSTokenID causal.TokenID `json:"eos_token_id"`
	PadTokenID causal.TokenID `json:"pad_token_id"`
}

// DefaultConfig returns transformers' Gemma2Config defaults (Gemma 2 9B's
// shapes).
func DefaultConfig() Config {
	attn, final := 50.0, 30.0
	return Config{ModelType: "gemma2", VocabSize: 256000, HiddenSize: 3072, IntermediateSize: 24576,
		NumHiddenLayers: 28, NumAttentionHeads: 16, NumKeyValueHeads: 16, HeadDim: 256,
		HiddenActivation: "gelu_pytorch_tanh", MaxPositionEmbeddings: 8192, RMSNormEps: 1e-6,
		InitializerRange: 0.02, TieWordEmbeddings: true, RopeTheta: 10000, QueryPreAttnScalar: 256,
		SlidingWindow: 4096, AttnLogitSoftcapping: &attn, FinalLogitSoftcapping: &final,
		BOSTokenID: 2, EOSTokenID: 1, PadTokenID: 0}
}

// ParseConfig parses and validates a Gemma 2 config.json.
func ParseConfig(data []byte) (Config, error) {
	return causal.ParseConfig("gemma2", data, DefaultConfig())
}

// ReadConfig reads and validates the config.json at path.
func ReadConfig(path string) (Config, error) {
	return causal.ReadConfig("gemma2", path, ParseConfig)
}

// Window returns layer l's sliding window (0: global attention).
func (c Config) Window(l int) int {
	sliding := l%2 == 0
	if len(c.LayerTypes) > 0 {
		sliding = l < len(c.LayerTypes) && c.LayerTypes[l] == "sliding_attention"
	}
	if sliding {
		return c.SlidingWindow
	}
	return 0
}

func capOf(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// Validate returns an error naming every bad field, its value and the
// valid range or choices.
func (c Config) Validate() error {
	const fam = "gemma2"
	var errs []error
	if c.ModelType != fam {
		errs = append(errs, fmt.Errorf("gemma2: config model_type %q; valid: %q", c.ModelType, fam))
	}
	errs = append(errs, causal.CheckCore(fam, causal.CoreSizes{Vocab: c.VocabSize, Hidden: c.HiddenSize,
		Inner: c.IntermediateSize, Layers: c.NumHiddenLayers, Heads: c.NumAttentionHeads,
		Positions: c.MaxPositionEmbeddings, Grouped: true, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim},
		causal.Size{Field: "sliding_window", Value: c.SlidingWindow, Min: 1, Max: causal.MaxPositions}))
	errs = append(errs, causal.CheckEps(fam, "rms_norm_eps", c.RMSNormEps))
	for _, f := range []struct {
		name string
		v    float64
	}{{"query_pre_attn_scalar", c.QueryPreAttnScalar}, {"attn_logit_softcapping", capOf(c.AttnLogitSoftcapping)},
		{"final_logit_softcapping", capOf(c.FinalLogitSoftcapping)}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) || (f.name == "query_pre_attn_scalar" && f.v == 0) {
			errs = append(errs, fmt.Errorf("gemma2: config %s = %g; valid: a finite number > 0", f.name, f.v))
		}
	}
	if r, err := c.Rope(); err != nil {
		errs = append(errs, fmt.Errorf("gemma2: config %w", err))
	} else if c.HeadDim >= 2 {
		if err := rotary(r, c.HeadDim).Validate(c.HeadDim); err != nil {
			errs = append(errs, fmt.Errorf("gemma2: config: %w", err))
		}
	}
	if _, err := transformer.ParseActivation(c.HiddenActivation); err != nil {
		errs = append(errs, fmt.Errorf("gemma2: config hidden_activation: %w", err))
	}
	errs = append(errs, causal.CheckLayerTypes(fam, c.LayerTypes, c.NumHiddenLayers))
	errs = append(errs, causal.CheckWeights(fam, c.NumParams()))
	return errors.Join(errs...)
}

// Rope returns the resolved rotary settings.
func (c Config) Rope() (causal.Rope, error) {
	return causal.ResolveRope(c.RopeTheta, 1, c.RopeScaling, c.RopeParameters)
}

// NumParams returns the number of weights, in float64.
func (c Config) NumParams() float64 {
	d, in := float64(c.HiddenSize), float64(c.IntermediateSize)
	q, kv := float64(c.NumAttentionHeads*c.HeadDim), float64(c.NumKeyValueHeads*c.HeadDim)
	layer := 4*d + 2*d*q + 2*d*kv + 3*d*in
	return causal.CountWeights(c.VocabSize, c.HiddenSize, c.NumHiddenLayers, layer, d, c.TieWordEmbeddings)
}

func (c Config) configJSON() ([]byte, error) {
	c.Architectures = []string{"Gemma2ForCausalLM"}
	return json.MarshalIndent(c, "", "  ")
}

// rotary converts resolved rope settings for heads of headDim dimensions.
func rotary(r causal.Rope, headDim int) transformer.Rotary {
	return transformer.Rotary{Theta: r.Theta, Dims: headDim, Scaling: transformer.RopeScaling(r.Scaling)}
}
