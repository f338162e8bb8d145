package neox

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/govene/govene/causal"
	"github.com/govene/govene/internal/transformer"
)

// Config is a GPT-NeoX (Pythia) config.json: the fields govene reads, with
// transformers' names. Missing fields take transformers' GPTNeoXConfig
// defaults.
type Config struct {
	ModelType             string   `json:"model_type"`
	Architectures         []string `json:"architectures,omitempty"`
	VocabSize             int      `json:"vocab_size"`
	HiddenSize            int      `json:"hidden_size"`
	IntermediateSize      int      `json:"intermediate_size"`
	NumHiddenLayers       int      `json:"num_hidden_layers"`
	NumAttentionHeads     int      `json:"num_attention_heads"`
	HiddenAct             string   `json:"hidden_act"`
	MaxPositionEmbeddings int      `json:"max_position_embeddings"`
	LayerNormEps          float64  `json:"layer_norm_eps"`
	InitializerRange      float64  `json:"initializer_range"`
	TieWordEmbeddings     bool     `json:"tie_word_embeddings"`
	AttentionBias         bool     `json:"attention_bias"`
	// UseParallelResidual adds attention and MLP, both of the block's
	// input, to the residual stream at once (Pythia).
	UseParallelResidual bool `json:"use_parallel_residual"`

	// RotaryPct and RotaryEmbBase are transformers 4's names of the
	// rotated fraction of each head and the rope theta; transformers 5
	// writes them in RopeParameters.
	RotaryPct      float64                `json:"rotary_pct,omitempty"`
	RotaryEmbBase  float64                `json:"rotary_emb_base,omitempty"`
	RopeTheta      float64                `json:"rope_theta,omitempty"`
	RopeScaling    *causal.RopeParameters `json:"rope_scaling,omitempty"`
	RopeParameters *causal.RopeParameters `json:"rope_parameters,omitempty"`

	BOSTokenID causal.TokenID `json:"bos_token_id"`
	EOSTokenID causal.TokenID `json:"eos_token_id"`
}

// DefaultConfig returns transformers' GPTNeoXConfig defaults (GPT-NeoX
// 20B's shapes).
func DefaultConfig() Config {
	return Config{ModelType: "gpt_neox", VocabSize: 50432, HiddenSize: 6144, IntermediateSize: 24576,
		NumHiddenLayers: 44, NumAttentionHeads: 64, HiddenAct: "gelu", MaxPositionEmbeddings: 2048,
		LayerNormEps: 1e-5, InitializerRange: 0.02, AttentionBias: true, UseParallelResidual: true,
		RotaryPct: 0.25, RotaryEmbBase: 10000, BOSTokenID: 0, EOSTokenID: 2}
}

// ParseConfig parses and validates a GPT-NeoX config.json.
func ParseConfig(data []byte) (Config, error) {
	return causal.ParseConfig("gpt_neox", data, DefaultConfig())
}

// ReadConfig reads and validates the config.json at path.
func ReadConfig(path string) (Config, error) {
	return causal.ReadConfig("gpt_neox", path, ParseConfig)
}

// HeadDim returns hidden_size/num_attention_heads.
func (c Config) HeadDim() int {
	if c.NumAttentionHeads <= 0 {
		return 0
	}
	return c.HiddenSize / c.NumAttentionHeads
}

// Rope returns the resolved rotary settings (theta and the rotated
// fraction from rope_parameters, else rope_theta or rotary_emb_base and
// rotary_pct).
func (c Config) Rope() (causal.Rope, error) {
	theta := c.RotaryEmbBase
	if c.RopeTheta != 0 {
		theta = c.RopeTheta
	}
	return causal.ResolveRope(theta, c.RotaryPct, c.RopeScaling, c.RopeParameters)
}

// Validate returns an error naming every bad field, its value and the
// valid range or choices.
func (c Config) Validate() error {
	const fam = "gpt_neox"
	var errs []error
	if c.ModelType != fam {
		errs = append(errs, fmt.Errorf("gpt_neox: config model_type %q; valid: %q", c.ModelType, fam))
	}
	errs = append(errs, causal.CheckCore(fam, causal.CoreSizes{Vocab: c.VocabSize, Hidden: c.HiddenSize,
		Inner: c.IntermediateSize, Layers: c.NumHiddenLayers, Heads: c.NumAttentionHeads,
		Positions: c.MaxPositionEmbeddings}))
	if c.NumAttentionHeads > 0 && c.HiddenSize%c.NumAttentionHeads != 0 {
		errs = append(errs, fmt.Errorf("gpt_neox: config hidden_size = %d is not a multiple of num_attention_heads = %d", c.HiddenSize, c.NumAttentionHeads))
	}
	errs = append(errs, causal.CheckEps(fam, "layer_norm_eps", c.LayerNormEps))
	if r, err := c.Rope(); err != nil {
		errs = append(errs, fmt.Errorf("gpt_neox: config %w", err))
	} else if hd := c.HeadDim(); hd >= 2 {
		if err := rotary(r, hd).Validate(hd); err != nil {
			errs = append(errs, fmt.Errorf("gpt_neox: config (partial_rotary_factor %g of head_dim %d): %w", r.Partial, hd, err))
		}
	}
	if _, err := transformer.ParseActivation(c.HiddenAct); err != nil {
		errs = append(errs, fmt.Errorf("gpt_neox: config hidden_act: %w", err))
	}
	errs = append(errs, causal.CheckWeights(fam, c.NumParams()))
	return errors.Join(errs...)
}

// NumParams returns the number of weights, in float64.
func (c Config) NumParams() float64 {
	d, in := float64(c.HiddenSize), float64(c.IntermediateSize)
	layer := 4*d + 4*d*d + 4*d + 2*d*in + in + d
	return causal.CountWeights(c.VocabSize, c.HiddenSize, c.NumHiddenLayers, layer, 2*d, c.TieWordEmbeddings)
}

func (c Config) configJSON() ([]byte, error) {
	c.Architectures = []string{"GPTNeoXForCausalLM"}
	return json.MarshalIndent(c, "", "  ")
}

// rotary converts resolved rope settings for heads of headDim dimensions:
// the first int(headDim*partial) dimensions rotate.
func rotary(r causal.Rope, headDim int) transformer.Rotary {
	return transformer.Rotary{Theta: r.Theta, Dims: int(float64(headDim) * r.Partial), Scaling: transformer.RopeScaling(r.Scaling)}
}
