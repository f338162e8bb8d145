package pv

import (
	"fmt"
	"slices"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
)

// Option sets one argument of Forward.
type Option func(*call) error

// call holds Forward's arguments.
type call struct {
	sources      [][]lm.Prompt // per source group, one prompt per example
	srcLocs      [][][]int     // [intervention][example][units]; nil: whole tensor / not given
	baseLocs     [][][]int
	srcHeads     [][][]int // h.pos only: heads; the locs above then hold positions
	baseHeads    [][][]int
	haveLocs     bool
	baseOnly     bool
	subspaces    [][][]int // [intervention][example][dims or partitions]
	srcReps      map[string][][]float32
	srcRepAll    [][]float32 // one source representation for every intervention
	original     bool
	noiseSeed    uint64
	pyvene       any // unit_locations in pyvene's form, resolved by Forward
	pyveneSerial map[string]any
	caches       []*lm.Result
	capture      []lm.Site
	lastOnly     bool  // logits of the last position only
	skipGroups   []int // source groups given pyvene's None source
	collectOnly  bool  // only Collect interventions get plans and inputs; the others are off (generation steps that only read values)
	dry          bool  // shapes only: prepare runs no source (precompile)
}

// Sources gives one source prompt per source group (for a batch of one base
// prompt). A single source feeds every group, as in pyvene. Each argument is
// a group, not an example: for a batch of several base prompts with one
// source each, use SourceBatches.
func Sources(prompts ...lm.Prompt) Option {
	return data(govene.Sources(prompts...))
}

// SourceBatches gives, per source group, one source prompt per base example:
// pyvene's sources=[tokenizer([...])] for a batch. One batch feeds every
// group.
func SourceBatches(batches ...[]lm.Prompt) Option {
	return data(govene.SourceBatches(batches...))
}

// SourceCaches gives, per source group, a run that already holds the sites
// the group's interventions read (for example from RunWithCache), so no
// source run is made. A single cache feeds every group. A nil cache, or one
// without a batch, is an error.
func SourceCaches(results ...*lm.Result) Option {
	return func(c *call) error {
		for i, r := range results {
			if r == nil || r.Batch == nil {
				return fmt.Errorf("pv: source caches[%d]: nil cache or batch; give results of RunWithCache or Output.Result", i)
			}
		}
		c.caches = results
		return nil
	}
}

// At intervenes, for every intervention and example, with the source's unit
// src on the base's unit base (pyvene's (i, j) shorthand).
func At(src, base int) Option {
	return data(govene.At(src, base))
}

// AtUnits intervenes on the same units of source and base, for every
// intervention and example (pyvene's flat-list shorthand).
func AtUnits(units ...int) Option {
	return data(govene.AtUnits(units...))
}

// AtBase gives only base units, for interventions without a source (Zero,
// Noise, Collect, constant sources): pyvene's "base" key.
func AtBase(units ...int) Option {
	return data(govene.AtBase(units...))
}

// Locations gives units explicitly: src[i][e] and base[i][e] are the units
// of intervention i for example e (pyvene's full unit_locations form). A nil
// src means base-only.
func Locations(src, base [][][]int) Option {
	return data(govene.Locations(src, base))
}

// HeadPositions gives the locations of "h.pos" interventions: heads and
// positions for source and base, each indexed [intervention][example][units].
func HeadPositions(srcHeads, srcPos, baseHeads, basePos [][][]int) Option {
	return data(govene.HeadPositions(srcHeads, srcPos, baseHeads, basePos))
}

// Subspaces restricts every intervention, for every example, to these
// dimensions of the unit (or partitions, when the representation has a
// subspace_partition).
func Subspaces(dims ...int) Option {
	return data(govene.Subspaces(dims...))
}

// SubspacesPer gives subspaces per intervention and example: s[i][e].
func SubspacesPer(s [][][]int) Option {
	return data(govene.SubspacesPer(s))
}

// SourceRepresentations feeds source unit values directly, skipping source
// runs: by intervention key, one row of values per example and unit, each
// row as wide as the unit ([example*units][width], flattened per row); one
// row is used for every example and unit. A NaN or infinite value is an
// error naming the key, row and index. A key the config does not have is
// an error listing the valid keys (Model.Keys). For pyvene's single tensor
// for all interventions use SourceRepresentation.
func SourceRepresentations(byKey map[string][][]float32) Option {
	return data(govene.SourceRepresentations(byKey))
}

// SourceRepresentation feeds the same source unit values to every
// intervention, as pyvene does when source_representations is one tensor:
// rows as for SourceRepresentations (one row is broadcast). Interventions
// without a source (Zero, Collect, Noise) ignore it. Giving it together with
// SourceRepresentations is an error.
func SourceRepresentation(rows ...[]float32) Option {
	if len(rows) == 0 {
		return func(*call) error {
			return fmt.Errorf("pv: SourceRepresentation: no rows given; give at least one row as wide as the unit")
		}
	}
	return data(govene.SourceRepresentation(rows...))
}

// resolveSourceReps checks the keys of SourceRepresentations against the
// config and spreads SourceRepresentation over every key.
func (iv *Model) resolveSourceReps(c *call) error {
	if c.srcRepAll != nil {
		if c.srcReps != nil {
			return fmt.Errorf("pv: SourceRepresentation (one for all interventions) and SourceRepresentations (by key) both given; give one")
		}
		c.srcReps = map[string][][]float32{}
		for _, k := range iv.keys {
			c.srcReps[k] = c.srcRepAll
		}
		c.srcRepAll = nil
		return nil
	}
	var unknown []string
	for k := range c.srcReps {
		if !slices.Contains(iv.keys, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("pv: SourceRepresentations: unknown intervention key(s) %q; valid keys: %q (or use SourceRepresentation for one value for all)", unknown, iv.keys)
	}
	return nil
}

// CaptureSites also returns the values at these sites in the intervened run
// (Output.Sites). Global sites (embed, pos_embed, ln_final, logits) are
// keyed with layer -1, as lm.ParseSite gives them; a site given twice is
// captured once. An unknown site is an error when the call runs.
func CaptureSites(sites ...lm.Site) Option {
	return data(govene.CaptureSites(sites...))
}

// LastLogitsOnly computes logits for the last position only ([b,1,vocab]):
// every example's next-token prediction, without unembedding the other
// positions (much of a small model's work with GPT-2's vocabulary).
func LastLogitsOnly() Option {
	return data(govene.LastLogitsOnly())
}

// WithOriginal also runs the base without interventions (pyvene's
// output_original_output).
func WithOriginal() Option {
	return data(govene.WithOriginal())
}

// NoiseSeed seeds the noise of Noise interventions (default 1).
func NoiseSeed(seed uint64) Option {
	return data(govene.NoiseSeed(seed))
}

// broadcast expands a [1][1][...] or [n][1][...] location list to
// [n][b][...]; it returns an error naming the argument when the sizes match
// neither.
func broadcast(what string, locs [][][]int, n, b int) ([][][]int, error) {
	if locs == nil {
		return nil, nil
	}
	if len(locs) == 1 && n > 1 {
		locs = repeat(locs[0], n)
	}
	if len(locs) != n {
		return nil, fmt.Errorf("pv: %s: %d interventions' worth given, the config has %d", what, len(locs), n)
	}
	out := make([][][]int, n)
	for i, per := range locs {
		if per == nil { // not given for this intervention (e.g. heads of a "pos" one)
			continue
		}
		if len(per) == 1 && b > 1 {
			per = repeat(per[0], b)
		}
		if len(per) != b {
			return nil, fmt.Errorf("pv: %s[%d]: %d examples' worth given, the batch has %d", what, i, len(per), b)
		}
		out[i] = per
	}
	return out, nil
}

func repeat[T any](x T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = x
	}
	return out
}
