package govene

// GenerateOptions are the data of pv.GenerateOptions (sampling, and when
// interventions act during generation), without its OnToken callback; see
// pv.GenerateOptions for each field's meaning. pv.GenerateOptionsFrom
// converts it.
type GenerateOptions struct {
	Sampling
	// InterveneOnPrompt applies located interventions in the prompt pass
	// only, as pyvene's intervene_on_prompt=True.
	InterveneOnPrompt bool `json:"intervene_on_prompt"`
	// EveryStep applies every intervention in the prompt pass and at every
	// new token.
	EveryStep bool `json:"every_step"`
	// Steps, when set, restricts the interventions on new tokens to these
	// generation steps (an empty, non-nil list: none).
	Steps []int `json:"steps,omitempty"`
}

// Generation is the data of a pv.Generation: per example, the prompt's ids
// followed by the new ones (Tokens), the new ones alone (NewTokens), and
// the same without interventions when asked WithOriginal.
type Generation struct {
	Tokens            [][]int `json:"tokens"`
	NewTokens         [][]int `json:"new_tokens"`
	Original          [][]int `json:"original,omitempty"`
	OriginalNewTokens [][]int `json:"original_new_tokens,omitempty"`
}
