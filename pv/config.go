package pv

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/govene/govene/lm"
)

// Unit is what an intervention's locations index: token positions ("pos"),
// attention heads ("h"), or heads at positions ("h.pos").
type Unit string

// The units pyvene supports.
const (
	Pos     Unit = "pos"
	Head    Unit = "h"
	HeadPos Unit = "h.pos"
)

// Units lists the valid units.
var Units = []Unit{Pos, Head, HeadPos}

// Mode says where sources go: in parallel every source intervenes on the
// base; in serial source 0 intervenes on source 1, ..., and the last on the
// base.
type Mode string

// The modes.
const (
	Parallel Mode = "parallel"
	Serial   Mode = "serial"
)

// Type names an intervention.
type Type string

// UnmarshalJSON accepts every form ParseType reads. A name it does not know
// is kept as given, so Config.Validate reports it with its field.
func (t *Type) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	if p, ok := normalType(Type(s)); ok {
		*t = p
		return nil
	}
	*t = Type(s)
	return nil
}

// RepresentationConfig says where one intervention acts and what it does.
// It mirrors pyvene's RepresentationConfig field for field.
type RepresentationConfig struct {
	Layer     int          `json:"layer"`
	Component lm.Component `json:"component"`
	// Unit is "pos" (default), "h" or "h.pos".
	Unit Unit `json:"unit"`
	// MaxNumberOfUnits is how many units each example intervenes on (default
	// 1; at most the model's positions for "pos", heads for "h", heads ×
	// positions for "h.pos"); it is part of the intervention key. As in pyvene it is enforced
	// only for weighted types (rotations, masks, PCA, autoencoders): more
	// units per call is an error. Other types take any number of units, as
	// pyvene's do. Unlike pyvene, whose weights for n units act on their
	// concatenation (n × width), govene's act on each unit separately.
	MaxNumberOfUnits int `json:"max_number_of_units"`
	// LowRankDimension is the subspace or latent size of low-rank, PCA and
	// autoencoder interventions: at most the unit's width for low-rank and
	// PCA, at most MaxLatent (and MaxWeightElements weights per matrix) for
	// autoencoders. Negative is an error.
	LowRankDimension int `json:"low_rank_dimension,omitempty"`
	// InterventionType names the intervention: a built-in type or one
	// added with Register; Intervention gives a Go function instead.
	// Setting both is an error, as in pyvene.
	InterventionType Type `json:"intervention_type,omitempty"`
	Intervention     Func `json:"-"`
	// SubspacePartition splits the unit's last axis into named groups of
	// dimensions; subspaces then name partitions instead of dimensions. A
	// partition of two numbers [a, b] means the range a..b-1, as in pyvene
	// (a < b; empty, reversed and out-of-range partitions are errors).
	SubspacePartition [][]int `json:"subspace_partition,omitempty"`
	// GroupKey puts interventions in one group fed by one source (default:
	// each intervention is its own group).
	GroupKey *int `json:"group_key,omitempty"`
	// InterventionLinkKey makes interventions with the same key share one
	// intervention; a later one sees the earlier one's output at its units.
	InterventionLinkKey *int `json:"intervention_link_key,omitempty"`
	// SourceRepresentation is a constant source (one unit's value, width of
	// the component; finite values), used instead of a source run.
	SourceRepresentation []float32 `json:"source_representation,omitempty"`
	// NoiseLevel scales Noise interventions' standard normal noise (finite,
	// >= 0).
	NoiseLevel float64 `json:"noise_level,omitempty"`
}

// Config configures an intervenable model: its interventions and mode.
type Config struct {
	Representations []RepresentationConfig `json:"representations"`
	// Mode is "parallel" (default) or "serial".
	Mode Mode `json:"mode,omitempty"`
}

// Key returns the intervention key pyvene gives representation i of this
// config: layer_{l}_comp_{component}_unit_{unit}_nunit_{n}#{k}, with k
// counting earlier representations of the same name. It returns "" when i
// is not an index of c.Representations.
func (c Config) Key(i int) string {
	if i < 0 || i >= len(c.Representations) {
		return ""
	}
	r := c.Representations[i]
	name := func(r RepresentationConfig) string {
		return fmt.Sprintf("layer_%d_comp_%s_unit_%s_nunit_%d", r.Layer, r.Component,
			strings.ReplaceAll(string(r.Unit), ".", "_"), r.MaxNumberOfUnits)
	}
	n := 0
	for _, prev := range c.Representations[:i] {
		if name(prev) == name(r) {
			n++
		}
	}
	return name(r) + "#" + strconv.Itoa(n)
}

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
		if !known {
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
