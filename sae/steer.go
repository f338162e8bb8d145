package sae

import (
	"fmt"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// Ablate runs prompts through m with s spliced in, the error term kept and
// features' activations zeroed, so that only those features' contribution
// to the site changes; the output holds the ablated logits and (Original)
// the model's own. Errors: a feature out of range, and Splice's and pv's.
func Ablate(m lm.Model, s *SAE, prompts []lm.Prompt, features ...int) (*pv.Output, error) {
	e := Edit{ErrorTerm: true, Scale: map[int]float32{}}
	for _, f := range features {
		e.Scale[f] = 0
	}
	iv, err := Splice(m, s, e)
	if err != nil {
		return nil, err
	}
	out, err := iv.Forward(prompts, pv.WithOriginal())
	if err != nil {
		return nil, fmt.Errorf("sae: ablate: %w", err)
	}
	return out, nil
}

// Direction returns scale times feature's decoder row W_dec[feature]
// (d_in values, divided by Scale as decoding is), the vector feature
// steering adds at the site. It returns an error for a feature out of
// range.
func (s *SAE) Direction(feature int, scale float32) ([]float32, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	if feature < 0 || feature >= s.DSAE {
		return nil, fmt.Errorf("sae: feature %d out of range [0, %d)", feature, s.DSAE)
	}
	out := make([]float32, s.DIn)
	sc := s.scale()
	for i, w := range s.WDec[feature*s.DIn : (feature+1)*s.DIn] {
		out[i] = float32(float64(scale) * float64(w) / sc)
	}
	return out, nil
}

// SteerRepresentation returns the pv representation that adds scale ×
// W_dec[feature] (Direction) to s's site at every position it acts on: a
// pv Addition with a constant source, which composes with any other
// intervention. Errors: Representation's and Direction's.
func SteerRepresentation(s *SAE, feature int, scale float32) (pv.RepresentationConfig, error) {
	r, err := s.Representation()
	if err != nil {
		return r, err
	}
	dir, err := s.Direction(feature, scale)
	if err != nil {
		return r, err
	}
	return pv.RepresentationConfig{Layer: r.Layer, Component: r.Component, InterventionType: pv.Addition, SourceRepresentation: dir}, nil
}

// Steer generates from prompts with scale × W_dec[feature] added at s's
// site at every position of the prompt and of each new token (g's
// InterveneOnPrompt is set). Errors: SteerRepresentation's, s's site
// missing in m, and pv's Generate's.
func Steer(m lm.Model, s *SAE, feature int, scale float32, prompts []lm.Prompt, g pv.GenerateOptions) (*pv.Generation, error) {
	if _, err := s.checkModel(m); err != nil {
		return nil, err
	}
	r, err := SteerRepresentation(s, feature, scale)
	if err != nil {
		return nil, err
	}
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{r}})
	if err != nil {
		return nil, fmt.Errorf("sae: steer: %w", err)
	}
	g.InterveneOnPrompt = true
	gen, err := iv.Generate(prompts, g)
	if err != nil {
		return nil, fmt.Errorf("sae: steer: %w", err)
	}
	return gen, nil
}
