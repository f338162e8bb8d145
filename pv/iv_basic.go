package pv

import (
	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene"
)

// The intervention types without weights, with pyvene's semantics (S is the
// selected subspace, b the base units, s the source units).
const (
	Vanilla     = govene.Vanilla     // b[S] = s[S]
	Addition    = govene.Addition    // b[S] += s[S]
	Subtraction = govene.Subtraction // b[S] -= s[S]
	Zero        = govene.Zero        // b[S] = 0; no source
	Collect     = govene.Collect     // returns b[S]; changes nothing
	Noise       = govene.Noise       // b += noise * level; no source
	// Skip replaces a module's output by its input in the source run (with
	// the base as source: the module is skipped). It applies to block_output,
	// mlp_output and query/key/value_output.
	Skip = govene.Skip
)

// This file is the one to copy for an intervention without weights: an
// Info and an Apply, with unweighted's defaults for the rest.

type vanilla struct{ unweighted }

func (vanilla) Info() Info               { return Info{Type: Vanilla, PyveneName: "VanillaIntervention"} }
func (vanilla) Apply(a Args) *graph.Node { return Interchange(a.Base, a.Source, a.Mask) }

type addition struct{ unweighted }

func (addition) Info() Info { return Info{Type: Addition, PyveneName: "AdditionIntervention"} }
func (addition) Apply(a Args) *graph.Node {
	return Interchange(a.Base, graph.Add(a.Base, a.Source), a.Mask)
}

type subtraction struct{ unweighted }

func (subtraction) Info() Info { return Info{Type: Subtraction, PyveneName: "SubtractionIntervention"} }
func (subtraction) Apply(a Args) *graph.Node {
	return Interchange(a.Base, graph.Sub(a.Base, a.Source), a.Mask)
}

type zero struct{ unweighted }

func (zero) Info() Info {
	return Info{Type: Zero, PyveneName: "ZeroIntervention", Source: NoSource}
}
func (zero) Apply(a Args) *graph.Node {
	return Interchange(a.Base, graph.ZerosLike(a.Base), a.Mask)
}

type collect struct{ unweighted }

func (collect) Info() Info {
	return Info{Type: Collect, PyveneName: "CollectIntervention", Source: NoSource, Collects: true}
}
func (collect) Apply(a Args) *graph.Node { return a.Base }

// noise adds standard normal noise scaled by the config's noise_level.
type noise struct{ unweighted }

func (noise) Info() Info {
	return Info{Type: Noise, PyveneName: "NoiseIntervention", Source: FromNoise}
}
func (noise) Apply(a Args) *graph.Node {
	return Interchange(a.Base, graph.Add(a.Base, graph.MulScalar(a.Source, a.Config.NoiseLevel)), a.Mask)
}

// skip takes its source at the module's input (FromModuleInput), so it
// interchanges the module's output with its input.
type skip struct{ unweighted }

func (skip) Info() Info {
	return Info{Type: Skip, PyveneName: "SkipIntervention", Source: FromModuleInput}
}
func (skip) Apply(a Args) *graph.Node { return Interchange(a.Base, a.Source, a.Mask) }
