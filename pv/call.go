package pv

import (
	"fmt"

	"github.com/govene/govene"
)

// WithCall applies the arguments of a govene.Call, as the options that set
// its fields would: Sources, CaptureSites and SkipGroups add to what
// earlier options gave, the other fields given replace it, and
// PyveneLocations, when set, is read after Locations. It returns the
// errors those options return when the call runs, and an error for
// SourceCacheIDs, which only an engine (package engine or a session)
// resolves.
func WithCall(g govene.Call) Option {
	return func(c *call) error { return c.merge(g) }
}

// data turns a govene.CallOption into an Option.
func data(o govene.CallOption) Option {
	return func(c *call) error { return c.merge(govene.NewCall(o)) }
}

// merge applies g's fields to c (see WithCall).
func (c *call) merge(g govene.Call) error {
	if len(g.SourceCacheIDs) > 0 {
		return fmt.Errorf("pv: source_cache_ids %q: caches by ID need a session or package engine to resolve them; with pv alone give the runs with pv.SourceCaches", g.SourceCacheIDs)
	}
	c.sources = append(c.sources, g.Sources...)
	if l := g.Locations; l != nil {
		c.haveLocs, c.baseOnly = true, l.BaseOnly
		c.srcLocs, c.baseLocs, c.srcHeads, c.baseHeads = l.Source, l.Base, l.SourceHeads, l.BaseHeads
	}
	if g.Subspaces != nil {
		c.subspaces = g.Subspaces
	}
	if g.SourceRepresentations != nil {
		for k, rows := range g.SourceRepresentations {
			for j, row := range rows {
				if err := checkFinite(fmt.Sprintf("pv: source representations[%q][%d]", k, j), row); err != nil {
					return err
				}
			}
		}
		c.srcReps = g.SourceRepresentations
	}
	if g.SourceRepresentation != nil {
		if len(g.SourceRepresentation) == 0 {
			return fmt.Errorf("pv: SourceRepresentation: no rows given; give at least one row as wide as the unit")
		}
		c.srcRepAll = g.SourceRepresentation
	}
	if g.PyveneLocations != nil {
		if err := c.pyveneLocations(g.PyveneLocations); err != nil {
			return err
		}
	}
	c.capture = append(c.capture, g.CaptureSites...)
	c.skipGroups = append(c.skipGroups, g.SkipGroups...)
	c.lastOnly = c.lastOnly || g.LastLogitsOnly
	c.original = c.original || g.WithOriginal
	if g.NoiseSeed != nil {
		c.noiseSeed = *g.NoiseSeed
	}
	return nil
}
