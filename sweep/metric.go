package sweep

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// Metric scores one run from the logits after the prompt's last token.
type Metric func(logits []float32) float64

// TokenProb returns a Metric: the probability of token id. Sweeps check the
// id against the model's vocabulary before running and return an error
// naming it; called directly on logits without id, the Metric panics.
func TokenProb(id int) Metric {
	return func(logits []float32) float64 {
		checkToken("TokenProb", id, logits)
		return float64(lm.Softmax(logits)[id])
	}
}

// LogitDiff returns a Metric: logit(a) - logit(b). Sweeps check a and b
// against the model's vocabulary before running and return an error naming
// the bad one; called directly on logits without them, the Metric panics.
func LogitDiff(a, b int) Metric {
	return func(logits []float32) float64 {
		checkToken("LogitDiff a", a, logits)
		checkToken("LogitDiff b", b, logits)
		return float64(logits[a]) - float64(logits[b])
	}
}

// metricError is what the package's metrics panic with on a token id
// outside the logits; callMetric turns it (and any other panic of a
// metric) into an error.
type metricError struct{ error }

// checkToken panics with a metricError when id is not a token of logits.
func checkToken(what string, id int, logits []float32) {
	if id < 0 || id >= len(logits) {
		panic(metricError{fmt.Errorf("metric: %s: token id %d out of range [0, %d) (the vocabulary)", what, id, len(logits))})
	}
}

// callMetric runs m on logits, returning its panic, if any, as an error.
func callMetric(m Metric, logits []float32) (v float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(metricError); ok {
				err = e.error
				return
			}
			err = fmt.Errorf("metric: panicked on logits of vocabulary size %d: %v", len(logits), r)
		}
	}()
	return m(logits), nil
}

// score runs m on example e's logits after its last token.
func score(logits *tensors.Tensor, b *lm.Batch, e int, m Metric) (float64, error) {
	l, err := (&lm.Result{Batch: b, Logits: logits}).NextTokenLogits(e)
	if err != nil {
		return 0, err
	}
	v, err := callMetric(m, l)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	return v, nil
}
