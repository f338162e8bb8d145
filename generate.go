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
// followed by the new ones (Tokens), the new ones alone (NewTokens), the
// same without interventions when asked WithOriginal, and the activations
// that Collect interventions and CaptureSites read in every forward pass.
type Generation struct {
	Tokens            [][]int `json:"tokens"`
	NewTokens         [][]int `json:"new_tokens"`
	Original          [][]int `json:"original,omitempty"`
	OriginalNewTokens [][]int `json:"original_new_tokens,omitempty"`
	// Lengths holds each prompt's length: the prompt pass runs the prompts
	// left-padded to the longest, so example i's token j sits at column
	// s-Lengths[i]+j of its values. Nil when the generation returns no
	// values.
	Lengths []int `json:"lengths,omitempty"`
	// Collected holds, by intervention key, what each Collect
	// intervention read in each pass: entry 0 is the prompt pass, entry
	// j >= 1 the pass that fed new token j-1 (see pv.Generation). Sites
	// holds the same for the captured sites, by site name (Site.String).
	Collected map[string][]Tensor `json:"collected,omitempty"`
	Sites     map[string][]Tensor `json:"sites,omitempty"`
}
