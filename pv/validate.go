package pv

import (
	"fmt"
	"math"
	"slices"

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
	// MaxChunkSize bounds SweepConfig.ChunkSize.
	MaxChunkSize = 4096
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
		return d.Heads
	case r.Unit == HeadPos:
		return d.Heads * d.Positions
	}
	return d.Positions
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
	return func(c *call) error {
		c.skipGroups = append(c.skipGroups, groups...)
		return nil
	}
}

// check validates a sweep's prompts, corruption and config against the
// model, and returns the config with defaults filled in and the sweep's
// columns (positions or heads). It is the one place both the plain and
// the resumed sweep paths are validated.
func (sw *Sweeper) check(base, source lm.Prompt, corrupt *Corruption, cfg SweepConfig) (SweepConfig, []int, error) {
	fail := func(format string, args ...any) (SweepConfig, []int, error) {
		return cfg, nil, fmt.Errorf("pv: sweep: "+format, args...)
	}
	if sw == nil || sw.model == nil {
		return fail("no model; make the Sweeper with pv.NewSweeper(model)")
	}
	d := sw.model.Dims()
	runner := lm.NewRunner(sw.model, sw.model.PadID())
	for _, p := range []struct {
		what string
		p    lm.Prompt
	}{{"base", base}, {"source", source}} {
		if _, err := runner.NewBatch([]lm.Prompt{p.p}, 0); err != nil {
			return fail("%s prompt: %w", p.what, err)
		}
	}
	if cfg.Component == "" {
		cfg.Component = lm.BlockOutput
	}
	if cfg.Unit == "" {
		cfg.Unit = Pos
	}
	c := cfg.Component
	if !c.Valid() || c.IsGlobal() {
		return fail("component: %q is not a per-layer component; valid: %v", c, lm.LayerComponents)
	}
	pattern := c == lm.AttentionWeight || c == lm.AttentionScores
	switch cfg.Unit {
	case Pos:
		if c.IsHead() {
			return fail("component: %s is per head; with unit \"pos\" sweep a per-position component, or use unit \"h\" or \"h.pos\"", c)
		}
	case Head:
		if !c.IsHead() {
			return fail("unit: \"h\" needs a per-head component (%s is not one)", c)
		}
	case HeadPos:
		if !c.IsHead() || pattern {
			return fail("unit: \"h.pos\" needs a per-head component with a fixed width (head_query_output, head_key_output, head_value_output, head_attention_value_output); %s is not one", c)
		}
	default:
		return fail("unit: %q is not valid; valid: %v", cfg.Unit, Units)
	}
	if cfg.Metric == nil {
		return fail("metric: none given; use pv.TokenProb or pv.LogitDiff")
	}
	if _, err := callMetric(cfg.Metric, make([]float32, d.Vocab)); err != nil {
		return fail("%w", err)
	}
	switch {
	case cfg.Window < 0:
		return fail("window: %d must not be negative (0: the default, 1)", cfg.Window)
	case cfg.ChunkSize < 0 || cfg.ChunkSize > MaxChunkSize:
		return fail("chunk_size: %d out of range [0, %d] (0: the default, 32)", cfg.ChunkSize, MaxChunkSize)
	case cfg.MaxBytes < 0:
		return fail("max_bytes: %d must not be negative (0: the default, 1 GiB)", cfg.MaxBytes)
	}
	if cfg.Window == 0 {
		cfg.Window = 1
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = 32
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 1 << 30
	}
	if cfg.Layers != nil && len(cfg.Layers) == 0 {
		return fail("layers: empty list; give layers, or omit the field for every layer")
	}
	if cfg.Layers == nil {
		for l := range d.Layers {
			cfg.Layers = append(cfg.Layers, l)
		}
	}
	for j, l := range cfg.Layers {
		if l < 0 || l >= d.Layers {
			return fail("layers: %d out of range [0, %d)", l, d.Layers)
		}
		if slices.Contains(cfg.Layers[:j], l) {
			return fail("layers: %d given twice", l)
		}
	}
	if cfg.Positions != nil && len(cfg.Positions) == 0 {
		return fail("positions: empty list; give positions, or omit the field for the default")
	}
	if cfg.Unit == Head && cfg.Positions != nil {
		return fail("positions: %v given, but unit \"h\" patches whole heads at every position; use unit \"h.pos\" to patch heads at positions", cfg.Positions)
	}
	for j, p := range cfg.Positions {
		if p < 0 || p >= base.Len() || p >= source.Len() {
			return fail("positions: %d out of range [0, %d) (base %d tokens, source %d)", p, min(base.Len(), source.Len()), base.Len(), source.Len())
		}
		if slices.Contains(cfg.Positions[:j], p) {
			return fail("positions: %d given twice", p)
		}
	}
	var cols []int
	switch cfg.Unit {
	case Pos:
		cols = cfg.Positions
		if cols == nil {
			if base.Len() > source.Len() {
				return fail("positions: every position of the base (%d tokens) is swept by default, but the source has only %d; give positions", base.Len(), source.Len())
			}
			for p := range base.Len() {
				cols = append(cols, p)
			}
		}
	case Head, HeadPos:
		for h := range d.Heads {
			cols = append(cols, h)
		}
		if cfg.Unit == HeadPos && cfg.Positions == nil {
			if base.Last() >= source.Len() {
				return fail("positions: the default is the base's last position %d, outside the source (%d tokens); give positions", base.Last(), source.Len())
			}
			cfg.Positions = []int{base.Last()}
		}
	}
	if cfg.Unit == Head && base.Len() != source.Len() {
		return fail("unit h patches whole heads, so base (%d tokens) and source (%d) need the same length", base.Len(), source.Len())
	}
	if corrupt != nil {
		if len(corrupt.Positions) == 0 {
			return fail("corruption positions: none given; give the subject's token positions")
		}
		for j, p := range corrupt.Positions {
			if p < 0 || p >= base.Len() {
				return fail("corruption positions: %d out of range [0, %d) (the prompt's tokens)", p, base.Len())
			}
			if slices.Contains(corrupt.Positions[:j], p) {
				return fail("corruption positions: %d given twice", p)
			}
		}
		if !finite(corrupt.Level) || corrupt.Level < 0 || corrupt.Level > math.MaxFloat32 {
			return fail("corruption level: %g must be a finite float32 >= 0 (at most %g)", corrupt.Level, math.MaxFloat32)
		}
	}
	return cfg, cols, nil
}

// metricError is what pv's metrics panic with on a token id outside the
// logits; callMetric turns it (and any other panic of a metric) into an
// error.
type metricError struct{ error }

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

// checkToken panics with a metricError when id is not a token of logits.
func checkToken(what string, id int, logits []float32) {
	if id < 0 || id >= len(logits) {
		panic(metricError{fmt.Errorf("metric: %s: token id %d out of range [0, %d) (the vocabulary)", what, id, len(logits))})
	}
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
