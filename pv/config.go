package pv

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
)

// The config data lives in package govene, so that a session client can
// build configs without GoMLX; pv names it here so that code reads as before.

// Unit is what an intervention's locations index; see govene.Unit.
type Unit = govene.Unit

// The units pyvene supports.
const (
	Pos     = govene.Pos
	Head    = govene.Head
	HeadPos = govene.HeadPos
)

// Units lists the valid units: the same slice as govene.Units.
var Units = govene.Units

// Mode says where sources go; see govene.Mode.
type Mode = govene.Mode

// The modes.
const (
	Parallel = govene.Parallel
	Serial   = govene.Serial
)

// Type names an intervention; see govene.Type. Trainable(t) tells whether
// its weights train; ParseType reads pyvene's class names too.
type Type = govene.Type

// RepresentationConfig says where one intervention acts and what it does;
// see govene.RepresentationConfig. Its Intervention field, when set, must
// be a Func (or a plain func(base, source *graph.Node) *graph.Node).
type RepresentationConfig = govene.RepresentationConfig

// Config configures an intervenable model: its interventions and mode. It
// is govene.Config with pv's methods (Validate, which needs the registry of
// intervention types); convert with govene.Config(c) and pv.Config(g).
type Config govene.Config

// Key returns the intervention key pyvene gives representation i of this
// config (see govene.Config.Key); "" when i is not an index of
// c.Representations.
func (c Config) Key(i int) string { return govene.Config(c).Key(i) }

// withDefaults fills pyvene's defaults: unit "pos", one unit, parallel mode,
// Vanilla.
func (c Config) withDefaults() Config {
	c = c.clone()
	if c.Mode == "" {
		c.Mode = Parallel
	}
	for i := range c.Representations {
		r := &c.Representations[i]
		if r.Unit == "" {
			r.Unit = Pos
		}
		if r.MaxNumberOfUnits == 0 {
			r.MaxNumberOfUnits = 1
		}
		if r.Component == "" {
			r.Component = lm.BlockOutput
		}
		if r.InterventionType == "" && r.Intervention == nil {
			r.InterventionType = Vanilla
		}
		if t, ok := normalType(r.InterventionType); ok {
			r.InterventionType = t // pyvene's class names set in Go
		}
		if k, ok := kindOf(*r); ok && k.Info().Source == FromNoise && r.NoiseLevel == 0 {
			r.NoiseLevel = 0.13462981581687927 // pyvene's default noise_level
		}
	}
	return c
}

// Validate checks the config against a model's sizes, before anything is
// allocated: layers, components, units, unit counts, intervention types
// (registered ones, with each kind's own Check and the weights it
// declares), sizes (low_rank_dimension against the width and MaxLatent), subspace
// partitions, constant sources (width, NaN/Inf), noise levels, group keys
// (all or none) and linked interventions (same type, width and size). Each
// problem is an error naming the representation, the field, the value and
// the valid choices; all problems are joined in one error.
func (c Config) Validate(d lm.Dims) error {
	c = c.withDefaults()
	var errs []error
	if len(c.Representations) == 0 {
		errs = append(errs, errors.New("representations: none given; add at least one"))
	}
	if c.Mode != Parallel && c.Mode != Serial {
		errs = append(errs, fmt.Errorf("mode: %q is not valid; valid: %q, %q", c.Mode, Parallel, Serial))
	}
	hasGroupKeys := false
	for _, r := range c.Representations {
		hasGroupKeys = hasGroupKeys || r.GroupKey != nil
	}
	for i, r := range c.Representations {
		bad := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("representations[%d].%s: "+format, append([]any{i, field}, args...)...))
		}
		if !r.Component.Valid() || r.Component.IsGlobal() {
			bad("component", "%q is not a per-layer component; valid: %v", r.Component, lm.LayerComponents)
		} else if !d.Has(r.Component) {
			bad("component", "this model has no %s site (its absent components: %v)", r.Component, d.Absent)
		} else if r.Layer < 0 || r.Layer >= d.Layers {
			bad("layer", "%d out of range [0, %d)", r.Layer, d.Layers)
		}
		if !slices.Contains(Units, r.Unit) {
			bad("unit", "%q is not valid; valid: %v", r.Unit, Units)
		} else if r.Component.Valid() {
			pattern := r.Component == lm.AttentionWeight || r.Component == lm.AttentionScores
			head := r.Component.IsHead() && !pattern
			if r.Unit != Pos && !r.Component.IsHead() {
				bad("unit", "%q needs a per-head component (head_query_output, head_key_output, head_value_output, head_attention_value_output, attention_weight, attention_scores); %s is not one", r.Unit, r.Component)
			}
			if r.Unit == Pos && head {
				bad("unit", "%q on the per-head component %s would index heads; use \"h\" or \"h.pos\"", r.Unit, r.Component)
			}
		}
		if r.MaxNumberOfUnits < 1 {
			bad("max_number_of_units", "%d must be at least 1", r.MaxNumberOfUnits)
		} else if limit := maxUnits(d, r); limit > 0 && r.MaxNumberOfUnits > limit {
			bad("max_number_of_units", "%d exceeds the %d units a %q intervention on %s can have; valid: [1, %d]", r.MaxNumberOfUnits, limit, r.Unit, r.Component, limit)
		}
		if r.InterventionType != "" && r.Intervention != nil {
			bad("intervention", "both intervention_type (%s) and an intervention function are set; set one", r.InterventionType)
		}
		w := d.Width(r.Component)
		if r.LowRankDimension < 0 {
			bad("low_rank_dimension", "%d must not be negative", r.LowRankDimension)
		}
		kind, known := kindOf(r)
		mw := w // the width partitions index
		if _, isFunc := interventionFunc(r.Intervention); r.Intervention != nil && !isFunc {
			bad("intervention", "%T is not a pv.Func; give a pv.Func (func(base, source *graph.Node) *graph.Node), or name a built-in or registered type in intervention_type", r.Intervention)
		} else if !known {
			bad("intervention_type", "%q is not valid; valid: %v, or pyvene's class names (VanillaIntervention, ...; see ParseType); a type of your own must be registered with pv.Register first", r.InterventionType, Registered())
		} else if err := checkKind(kind, r, w, &mw); err != nil {
			for _, e := range unjoin(err) {
				var fe *FieldError
				if errors.As(e, &fe) {
					bad(fe.Field, "%s", fe.Msg)
				} else {
					bad("intervention_type", "%s: %v", r.InterventionType, e)
				}
			}
		}
		if r.SourceRepresentation != nil && w > 0 && len(r.SourceRepresentation) != w {
			bad("source_representation", "has %d values; %s is %d wide", len(r.SourceRepresentation), r.Component, w)
		}
		if j, ok := firstNonFinite(r.SourceRepresentation); !ok {
			bad("source_representation", "value %d is %g; values must be finite", j, r.SourceRepresentation[j])
		}
		if math.IsNaN(r.NoiseLevel) || math.IsInf(r.NoiseLevel, 0) || r.NoiseLevel < 0 || r.NoiseLevel > math.MaxFloat32 {
			bad("noise_level", "%g must be a finite float32 >= 0 (at most %g)", r.NoiseLevel, math.MaxFloat32)
		}
		for j, p := range r.SubspacePartition {
			switch {
			case len(p) == 0:
				bad("subspace_partition", "partition %d is empty; give [start, end) or a list of dimensions", j)
			case len(p) == 2 && p[0] >= p[1]:
				bad("subspace_partition", "partition %d: [%d, %d] is empty or reversed; a range [start, end) needs start < end", j, p[0], p[1])
			}
			for k, x := range p {
				end := len(p) == 2 && k == 1 // a range's end may equal the width
				if x < 0 || (mw > 0 && (x > mw || x == mw && !end)) {
					bad("subspace_partition", "partition %d: dimension %d out of range [0, %d)", j, x, mw)
					break
				}
			}
		}
		if r.GroupKey == nil && hasGroupKeys {
			bad("group_key", "set on some representations but not this one; set it on all or none")
		}
		if r.InterventionLinkKey != nil {
			for j, q := range c.Representations[:i] {
				if q.InterventionLinkKey == nil || *q.InterventionLinkKey != *r.InterventionLinkKey {
					continue
				}
				if q.InterventionType != r.InterventionType || d.Width(q.Component) != w || q.LowRankDimension != r.LowRankDimension || (q.Intervention == nil) != (r.Intervention == nil) {
					bad("intervention_link_key", "%d links it to representations[%d], which differs (%s on %s, low_rank_dimension %d vs %s on %s, %d); linked interventions share one intervention, so type, width and low_rank_dimension must match",
						*r.InterventionLinkKey, j, q.InterventionType, q.Component, q.LowRankDimension, r.InterventionType, r.Component, r.LowRankDimension)
				}
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pv: invalid config: %w", err)
	}
	return nil
}

// checkKind runs the checks of representation r that depend on its kind:
// the kind's own Check, then whether it has weights where the component
// has no fixed width, whether a FromModuleInput kind's component has a
// module input, and (when those pass) the weights it declares. It sets *mw
// to the width subspace partitions index. A panic in the kind is an error.
func checkKind(kind Intervention, r RepresentationConfig, w int, mw *int) error {
	return protect(fmt.Sprintf("intervention type %q", r.InterventionType), func() error {
		if err := kind.Check(r, w); err != nil {
			return err
		}
		if _, ok := moduleInputs[r.Component]; kind.Info().Source == FromModuleInput && !ok {
			return fieldErr("component", "%s replaces a module's output by its input; %s has no such input site (valid: block_output, mlp_output, query_output, key_output, value_output)", r.InterventionType, r.Component)
		}
		if w <= 0 {
			if len(kind.Weights(r, 0)) > 0 {
				return fieldErr("component", "%s has no fixed width; %s needs one", r.Component, r.InterventionType)
			}
			return nil
		}
		if *mw = kind.SubspaceWidth(r, w); *mw < 1 {
			return fieldErr("intervention_type", "%s: SubspaceWidth is %d for units of width %d; it must be at least 1", r.InterventionType, *mw, w)
		}
		return checkWeights(kind.Weights(r, w))
	})
}

// unjoin splits an errors.Join error into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// clone returns a copy of c that shares no slice or pointer with it, so a
// Model's config cannot change when its caller's does.
func (c Config) clone() Config {
	c.Representations = slices.Clone(c.Representations)
	for i := range c.Representations {
		r := &c.Representations[i]
		r.SourceRepresentation = slices.Clone(r.SourceRepresentation)
		if r.SubspacePartition != nil {
			parts := make([][]int, len(r.SubspacePartition))
			for j, p := range r.SubspacePartition {
				parts[j] = slices.Clone(p)
			}
			r.SubspacePartition = parts
		}
		if r.GroupKey != nil {
			g := *r.GroupKey
			r.GroupKey = &g
		}
		if r.InterventionLinkKey != nil {
			k := *r.InterventionLinkKey
			r.InterventionLinkKey = &k
		}
	}
	return c
}
