package gpt2

import (
	"fmt"

	"github.com/govene/govene/lm"
)

// Result is one forward pass's logits and site values; see lm.Result.
type Result = lm.Result

// Run runs prompts through the model, left-padded into one batch with the
// end-of-text token, and returns the logits and the values at sites (none:
// logits only). Compiled graphs are cached per set of sites and input shape.
// It returns an error for an empty prompt or one longer than n_positions, a
// token id outside the vocabulary, or an unknown site.
func (m *Model) Run(prompts []lm.Prompt, sites ...lm.Site) (*Result, error) {
	r, err := m.runner.Run(prompts, sites...)
	if err != nil {
		return nil, fmt.Errorf("gpt2: %w", err)
	}
	return r, nil
}

// NewBatch left-pads prompts to length (0: the longest prompt) with the
// end-of-text token, checking ids and lengths against the model.
func (m *Model) NewBatch(prompts []lm.Prompt, length int) (*lm.Batch, error) {
	b, err := m.runner.NewBatch(prompts, length)
	if err != nil {
		return nil, fmt.Errorf("gpt2: %w", err)
	}
	return b, nil
}

// RunBatch runs an already padded batch; see Run.
func (m *Model) RunBatch(b *lm.Batch, sites ...lm.Site) (*Result, error) {
	r, err := m.runner.RunBatch(b, sites...)
	if err != nil {
		return nil, fmt.Errorf("gpt2: %w", err)
	}
	return r, nil
}

// PadID returns the token id used for padding: the end-of-text token.
func (m *Model) PadID() int {
	if m.cfg.EOSTokenID >= 0 && m.cfg.EOSTokenID < m.cfg.VocabSize {
		return m.cfg.EOSTokenID
	}
	return 0
}

// Generate continues each prompt (left-padded into one batch) with a KV
// cache, greedily or by sampling as s says, calling onToken (when not nil)
// with each step's new tokens. It returns the new tokens of each prompt.
func (m *Model) Generate(prompts []lm.Prompt, s lm.Sampling, onToken func(step int, ids []int)) ([][]int, error) {
	toks, err := m.decoder.GenerateTokens(m.runner, prompts, s, onToken)
	if err != nil {
		return nil, fmt.Errorf("gpt2: %w", err)
	}
	return toks, nil
}

// RunWithCache runs prompts once and keeps the value at every site
// (TransformerLens' run_with_cache): a source run to reuse across many
// interventions.
func (m *Model) RunWithCache(prompts []lm.Prompt) (*Result, error) {
	return m.Run(prompts, lm.AllSites(m.Dims())...)
}
