package sweep

import (
	"fmt"
	"math"
	"slices"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// fail returns a sweep validation error.
func fail(format string, args ...any) error { return fmt.Errorf("sweep: "+format, args...) }

// check validates a sweep's prompts, corruption and config against the
// model, and returns the config with defaults filled in and the sweep's
// columns (positions or heads). It is the one place both the plain and
// the resumed sweep paths are validated.
func (sw *Sweeper) check(base, source lm.Prompt, corrupt *Corruption, cfg Config) (Config, []int, error) {
	if sw == nil || sw.model == nil {
		return cfg, nil, fail("no model; make the Sweeper with sweep.New(model)")
	}
	d := sw.model.Dims()
	for _, p := range []struct {
		what string
		p    lm.Prompt
	}{{"base", base}, {"source", source}} {
		if _, err := sw.runner.NewBatch([]lm.Prompt{p.p}, 0); err != nil {
			return cfg, nil, fail("%s prompt: %w", p.what, err)
		}
	}
	cfg, err := cfg.withDefaults(d.Vocab)
	if err != nil {
		return cfg, nil, err
	}
	if !d.Has(cfg.Component) {
		return cfg, nil, fail("component: this model has no %s site (its absent components: %v)", cfg.Component, d.Absent)
	}
	if cfg.Layers, err = checkLayers(cfg.Layers, d.Layers); err != nil {
		return cfg, nil, err
	}
	if err := cfg.checkPositions(base, source); err != nil {
		return cfg, nil, err
	}
	cols, err := cfg.columns(base, source, d.HeadCount(cfg.Component))
	if err != nil {
		return cfg, nil, err
	}
	if corrupt != nil {
		if err := checkCorruption(corrupt, base.Len()); err != nil {
			return cfg, nil, err
		}
	}
	return cfg, cols, nil
}

// withDefaults checks the config's component, unit, metric (on logits of
// a vocabulary of vocab tokens) and sizes, and fills in their defaults.
func (cfg Config) withDefaults(vocab int) (Config, error) {
	if cfg.Component == "" {
		cfg.Component = lm.BlockOutput
	}
	if cfg.Unit == "" {
		cfg.Unit = pv.Pos
	}
	c := cfg.Component
	if !c.Valid() || c.IsGlobal() {
		return cfg, fail("component: %q is not a per-layer component; valid: %v", c, lm.LayerComponents)
	}
	pattern := c == lm.AttentionWeight || c == lm.AttentionScores
	switch cfg.Unit {
	case pv.Pos:
		if c.IsHead() {
			return cfg, fail("component: %s is per head; with unit \"pos\" sweep a per-position component, or use unit \"h\" or \"h.pos\"", c)
		}
	case pv.Head:
		if !c.IsHead() {
			return cfg, fail("unit: \"h\" needs a per-head component (%s is not one)", c)
		}
	case pv.HeadPos:
		if !c.IsHead() || pattern {
			return cfg, fail("unit: \"h.pos\" needs a per-head component with a fixed width (head_query_output, head_key_output, head_value_output, head_attention_value_output); %s is not one", c)
		}
	default:
		return cfg, fail("unit: %q is not valid; valid: %v", cfg.Unit, pv.Units)
	}
	if cfg.Metric == nil {
		return cfg, fail("metric: none given; use sweep.TokenProb or sweep.LogitDiff")
	}
	if _, err := callMetric(cfg.Metric, make([]float32, vocab)); err != nil {
		return cfg, fail("%w", err)
	}
	switch {
	case cfg.Window < 0:
		return cfg, fail("window: %d must not be negative (0: the default, 1)", cfg.Window)
	case cfg.ChunkSize < 0 || cfg.ChunkSize > MaxChunkSize:
		return cfg, fail("chunk_size: %d out of range [0, %d] (0: the default, 32)", cfg.ChunkSize, MaxChunkSize)
	case cfg.MaxBytes < 0:
		return cfg, fail("max_bytes: %d must not be negative (0: the default, 1 GiB)", cfg.MaxBytes)
	}
	cfg.Window = cmpOr(cfg.Window, 1)
	cfg.ChunkSize = cmpOr(cfg.ChunkSize, 32)
	cfg.MaxBytes = cmpOr(cfg.MaxBytes, 1<<30)
	return cfg, nil
}

// cmpOr returns v, or def when v is zero.
func cmpOr[T int | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// checkLayers checks the layers to sweep of a model with n layers, and
// returns them (every layer for nil).
func checkLayers(layers []int, n int) ([]int, error) {
	if layers != nil && len(layers) == 0 {
		return nil, fail("layers: empty list; give layers, or omit the field for every layer")
	}
	if layers == nil {
		for l := range n {
			layers = append(layers, l)
		}
	}
	for j, l := range layers {
		if l < 0 || l >= n {
			return nil, fail("layers: %d out of range [0, %d)", l, n)
		}
		if slices.Contains(layers[:j], l) {
			return nil, fail("layers: %d given twice", l)
		}
	}
	return layers, nil
}

// checkPositions checks cfg.Positions against the unit and the prompts.
func (cfg Config) checkPositions(base, source lm.Prompt) error {
	if cfg.Positions != nil && len(cfg.Positions) == 0 {
		return fail("positions: empty list; give positions, or omit the field for the default")
	}
	if cfg.Unit == pv.Head && cfg.Positions != nil {
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
	if cfg.Unit == pv.Head && base.Len() != source.Len() {
		return fail("unit h patches whole heads, so base (%d tokens) and source (%d) need the same length", base.Len(), source.Len())
	}
	return nil
}

// columns returns a checked config's columns: positions for "pos", the
// model's heads otherwise. For "h.pos" without positions it sets
// cfg.Positions to the base's last position.
func (cfg *Config) columns(base, source lm.Prompt, heads int) ([]int, error) {
	var cols []int
	if cfg.Unit == pv.Pos {
		if cfg.Positions != nil {
			return cfg.Positions, nil
		}
		if base.Len() > source.Len() {
			return nil, fail("positions: every position of the base (%d tokens) is swept by default, but the source has only %d; give positions", base.Len(), source.Len())
		}
		for p := range base.Len() {
			cols = append(cols, p)
		}
		return cols, nil
	}
	for h := range heads {
		cols = append(cols, h)
	}
	if cfg.Unit == pv.HeadPos && cfg.Positions == nil {
		if base.Last() >= source.Len() {
			return nil, fail("positions: the default is the base's last position %d, outside the source (%d tokens); give positions", base.Last(), source.Len())
		}
		cfg.Positions = []int{base.Last()}
	}
	return cols, nil
}

// checkCorruption checks a corruption of a prompt of n tokens.
func checkCorruption(c *Corruption, n int) error {
	if len(c.Positions) == 0 {
		return fail("corruption positions: none given; give the subject's token positions")
	}
	for j, p := range c.Positions {
		if p < 0 || p >= n {
			return fail("corruption positions: %d out of range [0, %d) (the prompt's tokens)", p, n)
		}
		if slices.Contains(c.Positions[:j], p) {
			return fail("corruption positions: %d given twice", p)
		}
	}
	if math.IsNaN(c.Level) || math.IsInf(c.Level, 0) || c.Level < 0 || c.Level > math.MaxFloat32 {
		return fail("corruption level: %g must be a finite float32 >= 0 (at most %g)", c.Level, math.MaxFloat32)
	}
	return nil
}
