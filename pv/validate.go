package pv

import (
	"fmt"
	"github.com/govene/govene"
	"math"

	"github.com/govene/govene/lm"
)

// Limits on sizes that allocate memory, checked before anything is
// allocated.
const (
	// MaxLatent is the largest low_rank_dimension (latent size of an
	// autoencoder, rank of a rotation or PCA basis) a config may ask for.
	MaxLatent = 1 << 20
	// MaxWeightElements bounds one weight matrix of an intervention
	// (low_rank_dimension × width): 2^28 float32 values, 1 GiB.
	MaxWeightElements int64 = 1 << 28
	// MaxEpochs, MaxSteps and MaxBatchSize bound TrainConfig.Epochs, Steps
	// and BatchSize.
	MaxEpochs    = 1_000_000
	MaxSteps     = 1_000_000_000
	MaxBatchSize = 1 << 16
)

// maxUnits returns how many units an intervention of r's unit can have on a
// model of dims d (0 when d does not say).
func maxUnits(d lm.Dims, r RepresentationConfig) int {
	pattern := r.Component == lm.AttentionWeight || r.Component == lm.AttentionScores
	switch {
	case r.Unit == Head || r.Unit == Pos && pattern:
		return headCount(d, r.Component)
	case r.Unit == HeadPos:
		return headCount(d, r.Component) * d.Positions
	}
	return d.Positions
}

// headCount returns the size of component c's head axis on a model of dims
// d (d.HeadCount: fewer for key/value heads under grouped-query
// attention), or d.Heads for a component with no head axis.
func headCount(d lm.Dims, c lm.Component) int {
	if n := d.HeadCount(c); n > 0 {
		return n
	}
	return d.Heads
}

// firstNonFinite returns the index of the first NaN or infinite value in v
// and false, or -1 and true when every value is finite.
func firstNonFinite(v []float32) (int, bool) {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i, false
		}
	}
	return -1, true
}

// checkFinite returns an error naming what and the first index holding a
// NaN or infinite value.
func checkFinite(what string, v []float32) error {
	if i, ok := firstNonFinite(v); !ok {
		return fmt.Errorf("%s: value %d is %g; values must be finite", what, i, v[i])
	}
	return nil
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// SkipGroups gives these source groups pyvene's None source: their
// interventions do nothing in this call (sources=[None, ...] in pyvene). The
// groups' entries in Sources may then be empty prompts; an empty source
// prompt anywhere else is an error. A group outside the config's is an
// error when the call runs.
func SkipGroups(groups ...int) Option {
	return data(govene.SkipGroups(groups...))
}

// validate checks a TrainConfig and fills its defaults (zero fields); a
// negative size, or a temperature or L1 weight that is negative, NaN or
// infinite, is an error naming the field, the value and the valid range.
func (cfg TrainConfig) validate() (TrainConfig, error) {
	fail := func(format string, args ...any) (TrainConfig, error) {
		return cfg, fmt.Errorf("pv: train: "+format, args...)
	}
	switch {
	case cfg.Steps < 0 || cfg.Steps > MaxSteps:
		return fail("steps: %d out of range [0, %d] (0: train for epochs)", cfg.Steps, MaxSteps)
	case cfg.Epochs < 0 || cfg.Epochs > MaxEpochs:
		return fail("epochs: %d out of range [0, %d] (0: the default, 3)", cfg.Epochs, MaxEpochs)
	case cfg.BatchSize < 0 || cfg.BatchSize > MaxBatchSize:
		return fail("batch_size: %d out of range [0, %d] (0: the default, 16)", cfg.BatchSize, MaxBatchSize)
	case cfg.Patience < 0:
		return fail("patience: %d must not be negative (0: never stop early)", cfg.Patience)
	case cfg.EvalEvery < 0:
		return fail("eval_every: %d must not be negative (0: once per epoch)", cfg.EvalEvery)
	case !finite(cfg.TemperatureStart) || cfg.TemperatureStart < 0:
		return fail("temperature_start: %g must be a finite number > 0 (0: the default, 50)", cfg.TemperatureStart)
	case !finite(cfg.TemperatureEnd) || cfg.TemperatureEnd < 0:
		return fail("temperature_end: %g must be a finite number > 0 (0: the default, 0.1)", cfg.TemperatureEnd)
	case !finite(cfg.BoundaryL1) || cfg.BoundaryL1 < 0:
		return fail("boundary_l1: %g must be a finite number >= 0", cfg.BoundaryL1)
	}
	if err := cfg.Adam.Validate(); err != nil {
		return fail("%w", err)
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = 3
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 16
	}
	if cfg.TemperatureStart == 0 {
		cfg.TemperatureStart = 50
	}
	if cfg.TemperatureEnd == 0 {
		cfg.TemperatureEnd = 0.1
	}
	return cfg, nil
}

// checkExamples validates examples (what: "data" or "eval") against the
// model: labels in the vocabulary, one entry per intervention in
// SourceUnits, BaseUnits and Subspaces, and one source per source group
// (or one for all).
func (iv *Model) checkExamples(what string, examples []Example) error {
	d := iv.model.Dims()
	n := len(iv.cfg.Representations)
	for e, ex := range examples {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("pv: %s[%d]."+format, append([]any{what, e}, args...)...)
		}
		if ex.Label < 0 || ex.Label >= d.Vocab {
			return fail("label: %d out of range [0, %d) (the vocabulary)", ex.Label, d.Vocab)
		}
		if len(ex.Sources) != 1 && len(ex.Sources) != iv.groups {
			return fail("sources: %d given, the config has %d source groups (give one per group, or one for all)", len(ex.Sources), iv.groups)
		}
		for _, f := range []struct {
			name string
			v    [][]int
		}{{"source_units", ex.SourceUnits}, {"base_units", ex.BaseUnits}, {"subspaces", ex.Subspaces}} {
			if f.v != nil && len(f.v) != n {
				return fail("%s: %d interventions' worth given, the config has %d", f.name, len(f.v), n)
			}
		}
		if e > 0 && (ex.Subspaces == nil) != (examples[0].Subspaces == nil) {
			return fail("subspaces: given for some examples but not others; give them for all or none")
		}
	}
	return nil
}
