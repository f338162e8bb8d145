package sae

// Architecture names as SAELens writes them in cfg.json.
const (
	ArchStandard = "standard"
	ArchTopK     = "topk"
	ArchJumpReLU = "jumprelu"
)

// Activation normalisation names as SAELens writes them in cfg.json.
const (
	NormNone            = "none"
	NormExpectedAverage = "expected_average_only_in"
	NormConstantRescale = "constant_norm_rescale"
	NormLayerNorm       = "layer_norm" // SAELens' run-time layer normalisation of the input
)

// Config is SAELens' cfg.json (the fields govene reads; JSON names as
// SAELens 6 writes them). SAELens 6 keeps hook_name, model_name,
// hook_head_index, context_size and prepend_bos under "metadata"; Load reads
// them from there or from the top level (older SAELens), and Save writes both.
type Config struct {
	Architecture         string `json:"architecture"` // "standard", "topk", "jumprelu"
	DIn                  int    `json:"d_in"`
	DSAE                 int    `json:"d_sae"`
	HookName             string `json:"hook_name"` // TransformerLens name: "blocks.3.hook_resid_pre"
	HookLayer            int    `json:"hook_layer,omitempty"`
	HookHeadIndex        *int   `json:"hook_head_index,omitempty"`
	ApplyBDecToInput     bool   `json:"apply_b_dec_to_input"`
	NormalizeActivations string `json:"normalize_activations"` // "none", "expected_average_only_in", "constant_norm_rescale"
	K                    int    `json:"k,omitempty"`           // topk
	Dtype                string `json:"dtype,omitempty"`
	ModelName            string `json:"model_name,omitempty"`
	ContextSize          int    `json:"context_size,omitempty"`
	PrependBOS           *bool  `json:"prepend_bos,omitempty"`
	// RescaleActsByDecoderNorm (topk only) ranks pre-activations scaled by
	// each feature's decoder norm and divides activations by it in decode.
	RescaleActsByDecoderNorm bool `json:"rescale_acts_by_decoder_norm,omitempty"`
	// Extra holds the cfg.json fields govene does not read, kept as raw JSON
	// so that Save writes them back (nil for an SAE built in memory).
	Extra map[string][]byte `json:"-"`
}

// SAE is one sparse autoencoder's config and weights (float32, row-major).
type SAE struct {
	Config
	WEnc      []float32 // [d_in, d_sae]
	BEnc      []float32 // [d_sae]
	WDec      []float32 // [d_sae, d_in]
	BDec      []float32 // [d_in]
	Threshold []float32 // [d_sae], jumprelu only (nil otherwise)
	// Scale is the factor the input is multiplied by for
	// normalize_activations "expected_average_only_in" (1 when unused).
	Scale float64
}
