package govene

import (
	"math"
	"sort"
)

// Argmax returns the index of the largest value of x (the first one on
// ties), or -1 when x is empty.
func Argmax(x []float32) int {
	if len(x) == 0 {
		return -1
	}
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// Softmax returns the probabilities of logits, computed in float64 for
// accuracy; nil for empty logits.
func Softmax(logits []float32) []float32 {
	if len(logits) == 0 {
		return nil
	}
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	sum := 0.0
	out := make([]float32, len(logits))
	exps := make([]float64, len(logits))
	for i, v := range logits {
		exps[i] = math.Exp(float64(v) - mx)
		sum += exps[i]
	}
	for i := range exps {
		out[i] = float32(exps[i] / sum)
	}
	return out
}

// LogSumExp returns log(sum(exp(logits))), computed in float64 with the
// largest logit factored out (so large logits do not overflow): the
// normalizer of a log-softmax. It returns -Inf for empty logits.
func LogSumExp(logits []float32) float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	if math.IsInf(mx, 0) {
		return mx
	}
	sum := 0.0
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(sum)
}

// TokenProb is one token's probability.
type TokenProb struct {
	ID    int     `json:"id"`
	Token string  `json:"token"`
	Prob  float32 `json:"prob"`
}

// TopK returns the k most probable tokens of probs, most probable first,
// labelled by label (nil: no labels). k larger than the vocabulary returns
// them all; k <= 0 returns none.
func TopK(probs []float32, k int, label func(id int) string) []TokenProb {
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	k = min(max(k, 0), len(idx))
	out := make([]TokenProb, k)
	for i, id := range idx[:k] {
		out[i] = TokenProb{ID: id, Prob: probs[id]}
		if label != nil {
			out[i].Token = label(id)
		}
	}
	return out
}
