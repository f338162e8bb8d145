package govene

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// SweepConfig is the data of sweep.Config: what a sweep patches and how it
// scores each setting, with the metric named by a MetricSpec instead of a
// function and without the OnProgress callback. See sweep.Config for each
// field's default and valid values (sweep checks them);
// sweep.ConfigFrom converts it.
type SweepConfig struct {
	Component Component  `json:"component"`
	Unit      Unit       `json:"unit"`
	Layers    []int      `json:"layers,omitempty"`
	Positions []int      `json:"positions,omitempty"`
	Window    int        `json:"window,omitempty"`
	Metric    MetricSpec `json:"metric"`
	ChunkSize int        `json:"chunk_size,omitempty"`
	MaxBytes  int64      `json:"max_bytes,omitempty"`
}

// The metric kinds a MetricSpec names.
const (
	// MetricTokenProb is the probability of Tokens[0] after the prompt.
	MetricTokenProb = "token_prob"
	// MetricLogitDiff is logit(Tokens[0]) - logit(Tokens[1]).
	MetricLogitDiff = "logit_diff"
)

// MetricSpec names a sweep metric as data: Kind MetricTokenProb with one
// token, or MetricLogitDiff with two.
type MetricSpec struct {
	Kind   string `json:"kind"`
	Tokens []int  `json:"tokens"`
}

// Validate returns an error naming the field when the kind is unknown
// (listing the valid kinds), the number of tokens is not the kind's, or a
// token id is negative.
func (m MetricSpec) Validate() error {
	want := map[string]int{MetricTokenProb: 1, MetricLogitDiff: 2}
	n, ok := want[m.Kind]
	switch {
	case !ok:
		return fmt.Errorf("metric.kind: %q is not valid; valid: %q, %q", m.Kind, MetricTokenProb, MetricLogitDiff)
	case len(m.Tokens) != n:
		return fmt.Errorf("metric.tokens: %s takes %d token id(s), got %d", m.Kind, n, len(m.Tokens))
	}
	for i, id := range m.Tokens {
		if id < 0 {
			return fmt.Errorf("metric.tokens[%d]: token id %d must not be negative", i, id)
		}
	}
	return nil
}

// Func returns the metric as a function of the logits after the prompt's
// last token, or Validate's error. The function returns NaN when a token
// id is outside the logits (sweeps check ids against the vocabulary
// before running).
func (m MetricSpec) Func() (func(logits []float32) float64, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	ids := append([]int(nil), m.Tokens...)
	return func(logits []float32) float64 {
		for _, id := range ids {
			if id >= len(logits) {
				return math.NaN()
			}
		}
		if m.Kind == MetricLogitDiff {
			return float64(logits[ids[0]]) - float64(logits[ids[1]])
		}
		mx := math.Inf(-1)
		for _, v := range logits {
			mx = math.Max(mx, float64(v))
		}
		sum := 0.0
		for _, v := range logits {
			sum += math.Exp(float64(v) - mx)
		}
		return math.Exp(float64(logits[ids[0]])-mx) / sum
	}, nil
}

// Corruption adds fixed noise to the token embeddings (block_input of
// layer 0) at Positions: ROME's corrupted run. Level scales standard normal
// noise (ROME: 3 times the embeddings' standard deviation); Seed fixes it.
type Corruption struct {
	Positions []int   `json:"positions"`
	Level     float64 `json:"level"`
	Seed      uint64  `json:"seed"`
}

// Noise returns the corruption's fixed noise, one row of width w per
// corrupted position, flattened: what Trace adds to the token embeddings.
// A w <= 0 gives an empty slice.
func (c Corruption) Noise(w int) []float32 {
	rng := rand.New(rand.NewPCG(c.Seed, 0xc0))
	out := make([]float32, len(c.Positions)*max(w, 0))
	for i := range out {
		out[i] = float32(rng.NormFloat64() * c.Level)
	}
	return out
}

// SweepResult is a grid of metric values: Values[r][c] for row Rows[r] (a
// layer) and column Cols[c] (a position's token or a head).
type SweepResult struct {
	Rows, Cols []string
	Values     [][]float64
	// Base is the metric of the unpatched base (the corrupted run in causal
	// tracing); Source is the metric of the source run (the clean run).
	Base, Source float64
}

// Max returns the largest value and its row and column; on an empty grid,
// -Inf and row and column 0.
func (r *SweepResult) Max() (v float64, row, col int) {
	v = math.Inf(-1)
	for i, vals := range r.Values {
		for j, x := range vals {
			if x > v {
				v, row, col = x, i, j
			}
		}
	}
	return v, row, col
}
