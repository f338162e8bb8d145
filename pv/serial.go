package pv

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// buildStages prepares serial mode: one parallel model per source group,
// holding that group's interventions.
func (iv *Model) buildStages() error {
	iv.members = make([][]int, iv.groups)
	for i, g := range iv.group {
		iv.members[g] = append(iv.members[g], i)
	}
	for g, mem := range iv.members {
		sub := Config{Mode: Parallel}
		for _, i := range mem {
			sub.Representations = append(sub.Representations, iv.cfg.Representations[i])
		}
		st, err := New(iv.model, sub)
		if err != nil {
			return fmt.Errorf("pv: serial group %d: %w", g, err)
		}
		for j, i := range mem {
			st.keys[j] = iv.keys[i] // keep the full config's keys
		}
		iv.stages = append(iv.stages, st)
	}
	return nil
}

// forwardSerial runs serial mode: source 0 runs clean; group 0's
// interventions carry its activations into source 1's run; ... the last
// group's into the base. Locations of intervention i name units of its
// group's source (source side) and of the next run (base side).
func (iv *Model) forwardSerial(base []lm.Prompt, c *call) (*Output, error) {
	if c.pyvene != nil {
		return nil, fmt.Errorf("pv: serial mode: unit_locations need the serial keys \"source_0->source_1\", ..., \"source_k->base\"")
	}
	if c.pyveneSerial != nil {
		if err := iv.resolveSerial(c, len(base)); err != nil {
			return nil, err
		}
	}
	if len(c.skipGroups) > 0 || len(c.caches) > 0 {
		return nil, fmt.Errorf("pv: serial mode: SkipGroups and SourceCaches are not supported (every group's source runs, fed by the previous group)")
	}
	k := iv.groups
	if len(c.sources) != k {
		return nil, fmt.Errorf("pv: serial mode: sources: %d given, the config has %d groups (source 0 feeds group 0, whose output feeds source 1, ...)", len(c.sources), k)
	}
	b := len(base)
	n := len(iv.cfg.Representations)
	var err error
	if err := c.broadcastAll(n, b, false); err != nil {
		return nil, err
	}
	sitesOf := func(g int) []lm.Site {
		var s []lm.Site
		for _, i := range iv.members[g] {
			r := iv.cfg.Representations[i]
			s = append(s, lm.Site{Layer: r.Layer, Component: r.Component})
		}
		return s
	}
	cache, err := iv.runner.Run(c.sources[0], sitesOf(0)...)
	if err != nil {
		return nil, fmt.Errorf("pv: serial source 0: %w", err)
	}
	merged := &Output{Collected: map[string]*tensors.Tensor{}}
	for g, st := range iv.stages {
		target := base
		var capture []lm.Site
		if g+1 < k {
			target = c.sources[g+1]
			capture = sitesOf(g + 1)
		} else {
			capture = c.capture
		}
		opts := []Option{SourceCaches(cache), CaptureSites(capture...)}
		if c.haveLocs {
			var src, dst [][][]int
			for _, i := range iv.members[g] {
				if c.srcLocs != nil {
					src = append(src, c.srcLocs[i])
				}
				dst = append(dst, c.baseLocs[i])
			}
			opts = append(opts, Locations(src, dst))
		}
		if c.subspaces != nil {
			var sub [][][]int
			for _, i := range iv.members[g] {
				sub = append(sub, c.subspaces[i])
			}
			opts = append(opts, SubspacesPer(sub))
		}
		if c.srcReps != nil {
			fed := map[string][][]float32{} // this stage's keys only
			for _, i := range iv.members[g] {
				if v, ok := c.srcReps[iv.keys[i]]; ok {
					fed[iv.keys[i]] = v
				}
			}
			opts = append(opts, SourceRepresentations(fed))
		}
		out, err := st.Forward(target, opts...)
		if err != nil {
			return nil, fmt.Errorf("pv: serial group %d: %w", g, err)
		}
		for key, v := range out.Collected {
			merged.Collected[key] = v
		}
		merged.Base, merged.Logits, merged.Sites = out.Base, out.Logits, out.Sites
		cache = out.Result()
	}
	if c.original {
		orig, err := iv.runner.RunBatch(merged.Base)
		if err != nil {
			return nil, fmt.Errorf("pv: original: %w", err)
		}
		merged.Original = orig.Logits
	}
	return merged, nil
}
