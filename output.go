package govene

// Output is the data of a pv.Output: what one intervened call returns.
type Output struct {
	// Lengths holds each base prompt's length. Prompts are left-padded to
	// the longest, so example i's token j sits at position
	// Logits.Shape[1]-Lengths[i]+j (with LastLogitsOnly, position 0 is
	// every example's last token).
	Lengths []int `json:"lengths"`
	// Logits holds the intervened logits [b,s,vocab].
	Logits Tensor `json:"logits"`
	// Original holds the logits without interventions; nil unless the call
	// asked WithOriginal.
	Original *Tensor `json:"original,omitempty"`
	// Collected holds what Collect interventions read, by intervention key.
	Collected map[string]Tensor `json:"collected,omitempty"`
	// Sites holds the captured sites' values, by site name (Site.String).
	Sites map[string]Tensor `json:"sites,omitempty"`
}
