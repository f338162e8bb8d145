package sae

import (
	"fmt"
	"math"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// Metrics are SAELens' evaluation metrics of an SAE on prompts (every
// token counts; SAELens by default leaves special tokens out).
type Metrics struct {
	// Next-token cross-entropy (nats, mean over predicted tokens) of the
	// model, of the model with the SAE spliced in (no error term) and with
	// the site zero-ablated; CEIncrease = CEWithSAE - CEWithoutSAE;
	// CELossScore = (CEWithAblation - CEWithSAE) / (CEWithAblation -
	// CEWithoutSAE).
	CEWithoutSAE, CEWithSAE, CEWithAblation, CEIncrease, CELossScore float64
	// KL(original || spliced) and KL(original || ablated) of the
	// next-token distributions, mean over tokens; KLDivScore =
	// (KLWithAblation - KLWithSAE) / KLWithAblation.
	KLWithSAE, KLWithAblation, KLDivScore float64
	// ExplainedVariance is 1 - MSE / total variance of the site's values
	// (SAELens' explained_variance); MSE is the mean over tokens of
	// |x - x̂|²; L0 and L1 are the mean over tokens of the number of active
	// features and of the sum of activations.
	ExplainedVariance, MSE, L0, L1 float64
	// Tokens is the number of tokens the site metrics average over.
	Tokens int
}

// Reconstruction returns s's evaluation metrics on prompts (see
// Metrics): three forward passes through pv (original, SAE spliced
// without the error term, site zeroed) and one encode. Errors:
// FeatureActivations', Splice's, and pv's for prompts it cannot run.
func Reconstruction(m lm.Model, s *SAE, prompts []lm.Prompt) (*Metrics, error) {
	site, err := s.checkModel(m)
	if err != nil {
		return nil, err
	}
	a, err := FeatureActivations(m, s, prompts)
	if err != nil {
		return nil, err
	}
	iv, err := Splice(m, s, Edit{})
	if err != nil {
		return nil, err
	}
	spliced, err := iv.Forward(prompts, pv.WithOriginal())
	if err != nil {
		return nil, fmt.Errorf("sae: spliced forward: %w", err)
	}
	zero, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{{Layer: site.Layer, Component: site.Component, InterventionType: pv.Zero}}})
	if err != nil {
		return nil, fmt.Errorf("sae: zero ablation: %w", err)
	}
	ablated, err := zero.Forward(prompts)
	if err != nil {
		return nil, fmt.Errorf("sae: zero-ablated forward: %w", err)
	}
	res := &Metrics{}
	var nPred, nTok int
	for i, p := range prompts {
		orig, err := spliced.TokenLogits(i, true)
		if err != nil {
			return nil, err
		}
		with, err := spliced.TokenLogits(i, false)
		if err != nil {
			return nil, err
		}
		abl, err := ablated.TokenLogits(i, false)
		if err != nil {
			return nil, err
		}
		for j := range orig {
			lo, lw, la := logSoftmax(orig[j]), logSoftmax(with[j]), logSoftmax(abl[j])
			res.KLWithSAE += kl(lo, lw)
			res.KLWithAblation += kl(lo, la)
			nTok++
			if j+1 < len(p.IDs) {
				next := p.IDs[j+1]
				res.CEWithoutSAE -= lo[next]
				res.CEWithSAE -= lw[next]
				res.CEWithAblation -= la[next]
				nPred++
			}
		}
	}
	if nPred > 0 {
		res.CEWithoutSAE /= float64(nPred)
		res.CEWithSAE /= float64(nPred)
		res.CEWithAblation /= float64(nPred)
	}
	res.KLWithSAE /= float64(nTok)
	res.KLWithAblation /= float64(nTok)
	res.CEIncrease = res.CEWithSAE - res.CEWithoutSAE
	res.CELossScore = (res.CEWithAblation - res.CEWithSAE) / (res.CEWithAblation - res.CEWithoutSAE)
	res.KLDivScore = (res.KLWithAblation - res.KLWithSAE) / res.KLWithAblation
	siteMetrics(s, a, res)
	return res, nil
}

// siteMetrics fills explained variance, MSE, L0 and L1 from a's inputs
// and activations.
func siteMetrics(s *SAE, a *Activations, res *Metrics) {
	d := s.DIn
	sum := make([]float64, d)
	var sq, resid float64
	for i, x := range a.Inputs {
		f := a.Values[i]
		xHat, _ := s.Reconstruct(x)
		rows := len(x) / d
		for r := range rows {
			for c := range d {
				v := float64(x[r*d+c])
				sum[c] += v
				sq += v * v
				e := v - float64(xHat[r*d+c])
				resid += e * e
			}
			for _, v := range f[r*s.DSAE : (r+1)*s.DSAE] {
				if v != 0 {
					res.L0++
					res.L1 += math.Abs(float64(v))
				}
			}
		}
		res.Tokens += rows
	}
	n := float64(res.Tokens)
	var meanSq float64
	for _, v := range sum {
		meanSq += (v / n) * (v / n)
	}
	total := sq/n - meanSq
	res.MSE = resid / n
	res.L0 /= n
	res.L1 /= n
	switch {
	case total >= 1e-10:
		res.ExplainedVariance = 1 - res.MSE/total
	case res.MSE < 1e-10:
		res.ExplainedVariance = 1
	}
}

// logSoftmax returns log softmax(l) in float64.
func logSoftmax(l []float32) []float64 {
	lz := govene.LogSumExp(l)
	out := make([]float64, len(l))
	for i, v := range l {
		out[i] = float64(v) - lz
	}
	return out
}

// kl returns KL(p || q) of two log-distributions.
func kl(lp, lq []float64) float64 {
	var s float64
	for i, v := range lp {
		s += math.Exp(v) * (v - lq[i])
	}
	return s
}
