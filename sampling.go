package govene

import (
	"fmt"
	"math"
)

// Sampling configures how Generate picks tokens. The zero value is greedy
// decoding of 20 tokens.
type Sampling struct {
	// MaxNewTokens is how many tokens to generate (default 20).
	MaxNewTokens int `json:"max_new_tokens"`
	// Temperature 0 means greedy (argmax); otherwise logits are divided by it
	// and a token is drawn.
	Temperature float64 `json:"temperature"`
	// TopK keeps only the k most probable tokens when sampling (0: all).
	TopK int `json:"top_k"`
	// TopP keeps the smallest set of tokens whose probability reaches p
	// (0 or 1: all), applied after TopK, as transformers does.
	TopP float64 `json:"top_p"`
	// Seed makes sampling reproducible.
	Seed uint64 `json:"seed"`
	// StopAtEOS ends an example's generation at the model's end-of-text token
	// (its later tokens are the pad token).
	StopAtEOS bool `json:"stop_at_eos"`
}

// Validate returns an error naming the bad field.
func (s Sampling) Validate() error {
	switch {
	case s.MaxNewTokens < 0:
		return fmt.Errorf("lm: sampling: max_new_tokens %d must not be negative", s.MaxNewTokens)
	case s.Temperature < 0 || math.IsNaN(s.Temperature) || math.IsInf(s.Temperature, 0):
		return fmt.Errorf("lm: sampling: temperature %g must be a finite number >= 0", s.Temperature)
	case s.TopK < 0:
		return fmt.Errorf("lm: sampling: top_k %d must be >= 0", s.TopK)
	case s.TopP < 0 || s.TopP > 1 || math.IsNaN(s.TopP):
		return fmt.Errorf("lm: sampling: top_p %g must be in [0, 1]", s.TopP)
	}
	return nil
}
