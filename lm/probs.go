package lm

import (
	"fmt"
	"math"
	"strings"

	"github.com/govene/govene"
)

// Argmax returns the index of the largest value of x (the first one on
// ties), or -1 when x is empty. It is govene.Argmax.
func Argmax(x []float32) int { return govene.Argmax(x) }

// Softmax returns the probabilities of logits, computed in float64 for
// accuracy. It is govene.Softmax.
func Softmax(logits []float32) []float32 { return govene.Softmax(logits) }

// TokenProb is one token's probability; see govene.TokenProb.
type TokenProb = govene.TokenProb

// TopK returns the k most probable tokens of probs, most probable first,
// labelled by label (nil: no labels). k larger than the vocabulary returns
// them all. It is govene.TopK.
func TopK(probs []float32, k int, label func(id int) string) []TokenProb {
	return govene.TopK(probs, k, label)
}

// FormatTop renders token probabilities as an aligned text table with bars.
func FormatTop(top []TokenProb) string {
	var sb strings.Builder
	for _, t := range top {
		bar := strings.Repeat("█", int(math.Round(float64(t.Prob)*40)))
		fmt.Fprintf(&sb, "%-16q %7.4f %s\n", t.Token, t.Prob, bar)
	}
	return sb.String()
}
