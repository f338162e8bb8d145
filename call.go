package govene

import "encoding/json"

// Call holds the arguments of one pv.Forward (or Generate) call as data,
// so that a call can be written down, saved or sent to a session. Each
// field is what one of pv's options sets; the constructors below (Sources,
// At, WithOriginal, ...) build it as pv's options read, and pv.WithCall
// applies a whole Call. Shapes and values are checked by pv when the call
// runs, with the same errors as its options.
type Call struct {
	// Sources holds, per source group, one source prompt per base example
	// (a single group feeds every group; a single prompt every example).
	Sources [][]Prompt `json:"sources,omitempty"`
	// SourceCacheIDs names, per source group, a run an Engine holds (for
	// example one it kept with RunWithCache). An Engine (package engine or
	// a session) resolves them; pv.Forward alone refuses them (use
	// pv.SourceCaches).
	SourceCacheIDs []string `json:"source_cache_ids,omitempty"`
	// Locations, when set, gives the units interventions act on; nil means
	// none given (each intervention acts on the whole site, or where its
	// defaults put it).
	Locations *UnitLocations `json:"locations,omitempty"`
	// Subspaces restricts intervention i for example e to dimensions (or
	// partitions) Subspaces[i][e]; [1][1][...] applies to every one.
	Subspaces [][][]int `json:"subspaces,omitempty"`
	// SourceRepresentations feeds source unit values by intervention key,
	// one row per example and unit (one row for all), skipping source runs.
	SourceRepresentations map[string][][]float32 `json:"source_representations,omitempty"`
	// SourceRepresentation feeds the same rows to every intervention; it
	// excludes SourceRepresentations.
	SourceRepresentation [][]float32 `json:"source_representation,omitempty"`
	// PyveneLocations holds unit_locations as pyvene writes them, as JSON
	// (see pv.PyveneLocations); it replaces Locations.
	PyveneLocations json.RawMessage `json:"pyvene_locations,omitempty"`
	// CaptureSites are sites whose values in the intervened run are returned
	// too (Output.Sites).
	CaptureSites []Site `json:"capture_sites,omitempty"`
	// SkipGroups gives these source groups pyvene's None source.
	SkipGroups []int `json:"skip_groups,omitempty"`
	// LastLogitsOnly computes the logits of the last position only.
	LastLogitsOnly bool `json:"last_logits_only,omitempty"`
	// WithOriginal also runs the base without interventions.
	WithOriginal bool `json:"with_original,omitempty"`
	// NoiseSeed seeds Noise interventions; nil means the default, 1.
	NoiseSeed *uint64 `json:"noise_seed,omitempty"`
}

// UnitLocations are the units of a call, each indexed
// [intervention][example][units]; a [1][1][...] list applies to every
// intervention and example. For "h.pos" interventions Source and Base hold
// positions and SourceHeads and BaseHeads the heads. BaseOnly means no
// source units (interventions without a source run); Source is then nil.
type UnitLocations struct {
	Source      [][][]int `json:"source,omitempty"`
	Base        [][][]int `json:"base,omitempty"`
	SourceHeads [][][]int `json:"source_heads,omitempty"`
	BaseHeads   [][][]int `json:"base_heads,omitempty"`
	BaseOnly    bool      `json:"base_only,omitempty"`
}

// CallOption sets fields of a Call; the constructors below return them.
type CallOption func(*Call)

// NewCall returns the Call the options set, applied in order (later ones
// replace earlier ones, except that Sources, SourceBatches, CaptureSites
// and SkipGroups add to what earlier ones gave, as pv's options do). A nil
// option is ignored.
func NewCall(opts ...CallOption) Call {
	var c Call
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Sources gives one source prompt per source group, for a batch of one
// base prompt, as pv.Sources.
func Sources(prompts ...Prompt) CallOption {
	return func(c *Call) {
		for _, p := range prompts {
			c.Sources = append(c.Sources, []Prompt{p})
		}
	}
}

// SourceBatches gives, per source group, one source prompt per base
// example, as pv.SourceBatches.
func SourceBatches(batches ...[]Prompt) CallOption {
	return func(c *Call) { c.Sources = append(c.Sources, batches...) }
}

// SourceCacheIDs names runs an Engine holds (Model.RunWithCache's
// Cache.ID), one per source group (one for all). An Engine (package engine
// or a session) resolves them; pv.Forward alone refuses them.
func SourceCacheIDs(ids ...string) CallOption {
	return func(c *Call) { c.SourceCacheIDs = ids }
}

// At intervenes, for every intervention and example, with the source's unit
// src on the base's unit base, as pv.At.
func At(src, base int) CallOption {
	return func(c *Call) {
		c.Locations = &UnitLocations{Source: [][][]int{{{src}}}, Base: [][][]int{{{base}}}}
	}
}

// AtUnits intervenes on the same units of source and base, for every
// intervention and example, as pv.AtUnits.
func AtUnits(units ...int) CallOption {
	return func(c *Call) {
		c.Locations = &UnitLocations{Source: [][][]int{{units}}, Base: [][][]int{{units}}}
	}
}

// AtBase gives only base units, for interventions without a source, as
// pv.AtBase.
func AtBase(units ...int) CallOption {
	return func(c *Call) {
		c.Locations = &UnitLocations{Base: [][][]int{{units}}, BaseOnly: true}
	}
}

// Locations gives units explicitly, [intervention][example][units]; a nil
// src means base-only, as pv.Locations.
func Locations(src, base [][][]int) CallOption {
	return func(c *Call) {
		c.Locations = &UnitLocations{Source: src, Base: base, BaseOnly: src == nil}
	}
}

// HeadPositions gives the locations of "h.pos" interventions, as
// pv.HeadPositions; a nil srcPos means base-only.
func HeadPositions(srcHeads, srcPos, baseHeads, basePos [][][]int) CallOption {
	return func(c *Call) {
		c.Locations = &UnitLocations{Source: srcPos, Base: basePos,
			SourceHeads: srcHeads, BaseHeads: baseHeads, BaseOnly: srcPos == nil}
	}
}

// Subspaces restricts every intervention, for every example, to these
// dimensions (or partitions), as pv.Subspaces.
func Subspaces(dims ...int) CallOption {
	return func(c *Call) { c.Subspaces = [][][]int{{dims}} }
}

// SubspacesPer gives subspaces per intervention and example, s[i][e].
func SubspacesPer(s [][][]int) CallOption {
	return func(c *Call) { c.Subspaces = s }
}

// SourceRepresentations feeds source unit values by intervention key, as
// pv.SourceRepresentations.
func SourceRepresentations(byKey map[string][][]float32) CallOption {
	return func(c *Call) { c.SourceRepresentations = byKey }
}

// SourceRepresentation feeds the same rows to every intervention, as
// pv.SourceRepresentation.
func SourceRepresentation(rows ...[]float32) CallOption {
	return func(c *Call) { c.SourceRepresentation = rows }
}

// PyveneLocations takes unit_locations as pyvene writes them, as JSON (see
// pv.PyveneLocations for the forms); the JSON is read when the call runs.
func PyveneLocations(data []byte) CallOption {
	return func(c *Call) { c.PyveneLocations = append(json.RawMessage{}, data...) }
}

// CaptureSites also returns the values at these sites, as pv.CaptureSites.
func CaptureSites(sites ...Site) CallOption {
	return func(c *Call) { c.CaptureSites = append(c.CaptureSites, sites...) }
}

// SkipGroups gives these source groups pyvene's None source, as
// pv.SkipGroups.
func SkipGroups(groups ...int) CallOption {
	return func(c *Call) { c.SkipGroups = append(c.SkipGroups, groups...) }
}

// LastLogitsOnly computes logits for the last position only.
func LastLogitsOnly() CallOption {
	return func(c *Call) { c.LastLogitsOnly = true }
}

// WithOriginal also runs the base without interventions.
func WithOriginal() CallOption {
	return func(c *Call) { c.WithOriginal = true }
}

// NoiseSeed seeds the noise of Noise interventions (default 1).
func NoiseSeed(seed uint64) CallOption {
	return func(c *Call) { c.NoiseSeed = &seed }
}
