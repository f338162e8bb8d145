package pv

import (
	"encoding/json"
	"fmt"

	"github.com/govene/govene"
)

// PyveneLocations takes unit_locations written as for pyvene, as JSON (tuples
// as lists, None as null): {"sources->base": X} or {"base": X}, where X is an
// int (the same unit in source and base), [i, j] (source unit i into base
// unit j), [null, j] (base only), a flat list (the same units in both), or
// the full pair [source, base] of [intervention][example][units] lists; for
// "h.pos" interventions each intervention's entry is [heads, positions], each
// [example][units]. A null base side means the whole site. Unlike pyvene,
// every form keeps each example's own locations. It returns an error naming
// what it could not read.
func PyveneLocations(b []byte) Option {
	return data(govene.PyveneLocations(b))
}

// pyveneLocations stores unit_locations in pyvene's form, as
// PyveneLocations reads them, for Forward to resolve.
func (c *call) pyveneLocations(data []byte) error {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("pv: unit_locations: %w", err)
	}
	if m == nil {
		c.haveLocs = false
		return nil
	}
	if _, serial := m["source_0->base"]; serial || m["source_0->source_1"] != nil {
		c.pyveneSerial, c.haveLocs = m, true
		return nil
	}
	if len(m) != 1 {
		return fmt.Errorf("pv: unit_locations: want one key, \"sources->base\" or \"base\" (or serial keys \"source_0->source_1\", ...); got %d keys", len(m))
	}
	for k, v := range m {
		switch k {
		case "sources->base":
		case "base":
			c.baseOnly = true
		default:
			return fmt.Errorf("pv: unit_locations: key %q is not supported; valid: \"sources->base\", \"base\", or serial keys \"source_i->source_{i+1}\" and \"source_k->base\"", k)
		}
		c.pyvene, c.haveLocs = v, true
	}
	return nil
}

// resolvePyvene converts the pyvene form stored by PyveneLocations, now that
// the config's units are known.
func (iv *Model) resolvePyvene(c *call) error {
	v := c.pyvene
	c.pyvene = nil
	if v == nil {
		c.haveLocs = false
		return nil
	}
	if x, ok := asInt(v); ok {
		if c.baseOnly {
			c.baseLocs = [][][]int{{{x}}}
		} else {
			c.srcLocs, c.baseLocs = [][][]int{{{x}}}, [][][]int{{{x}}}
		}
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("pv: unit_locations: unreadable value %v", v)
	}
	if len(list) == 2 && !c.baseOnly {
		i, iok := asInt(list[0])
		j, jok := asInt(list[1])
		switch {
		case iok && jok:
			c.srcLocs, c.baseLocs = [][][]int{{{i}}}, [][][]int{{{j}}}
			return nil
		case list[0] == nil && jok:
			c.baseOnly, c.baseLocs = true, [][][]int{{{j}}}
			return nil
		case iok && list[1] == nil:
			return fmt.Errorf("pv: unit_locations: [%d, null] (source units without base units) is not supported", i)
		}
	}
	if flat, ok := intList(list); ok {
		c.baseLocs = [][][]int{{flat}}
		if !c.baseOnly {
			c.srcLocs = [][][]int{{flat}}
		}
		return nil
	}
	var src, base any
	if c.baseOnly {
		base = v
	} else {
		if len(list) != 2 {
			return fmt.Errorf("pv: unit_locations: want [source, base], got a list of %d", len(list))
		}
		src, base = list[0], list[1]
	}
	var err error
	if src != nil {
		if c.srcHeads, c.srcLocs, err = iv.perIntervention("source", src); err != nil {
			return err
		}
	} else {
		c.baseOnly = true
	}
	if base == nil {
		c.haveLocs = false // the whole site
		return nil
	}
	c.baseHeads, c.baseLocs, err = iv.perIntervention("base", base)
	return err
}

// perIntervention reads [intervention][example][units], or for h.pos
// interventions [intervention][heads|positions][example][units].
func (iv *Model) perIntervention(side string, v any) (heads, units [][][]int, err error) {
	list, ok := v.([]any)
	if !ok || len(list) != len(iv.cfg.Representations) {
		return nil, nil, fmt.Errorf("pv: unit_locations %s: want one entry per intervention (%d)", side, len(iv.cfg.Representations))
	}
	anyHeadPos := false
	for i, r := range iv.cfg.Representations {
		if r.Unit == HeadPos {
			anyHeadPos = true
			pair, ok := list[i].([]any)
			if !ok || len(pair) != 2 {
				return nil, nil, fmt.Errorf("pv: unit_locations %s[%d]: h.pos wants [heads, positions]", side, i)
			}
			h, err1 := intList3(pair[0])
			p, err2 := intList3(pair[1])
			if err1 != nil || err2 != nil {
				return nil, nil, fmt.Errorf("pv: unit_locations %s[%d]: h.pos wants [heads, positions], each [example][units] of ints", side, i)
			}
			heads, units = append(heads, h), append(units, p)
			continue
		}
		u, err := intList3(list[i])
		if err != nil {
			return nil, nil, fmt.Errorf("pv: unit_locations %s[%d]: want [example][units] of ints", side, i)
		}
		heads, units = append(heads, nil), append(units, u)
	}
	if !anyHeadPos {
		heads = nil
	}
	return heads, units, nil
}

func asInt(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}

func intList(list []any) ([]int, bool) {
	out := make([]int, len(list))
	for i, x := range list {
		n, ok := asInt(x)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, len(list) > 0
}

// intList3 reads [example][units] of ints.
func intList3(v any) ([][]int, error) {
	ex, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("not a list")
	}
	out := make([][]int, len(ex))
	for e, u := range ex {
		ul, ok := u.([]any)
		if !ok {
			return nil, fmt.Errorf("not a list")
		}
		if out[e], ok = intList(ul); !ok {
			return nil, fmt.Errorf("not ints")
		}
	}
	return out, nil
}

// resolveSerial converts serial-mode unit_locations ({"source_0->source_1":
// X, ..., "source_k->base": X}, each X a pyvene form for that step's
// interventions) into locations in config order.
func (iv *Model) resolveSerial(c *call, b int) error {
	n := len(iv.cfg.Representations)
	c.srcLocs, c.baseLocs = make([][][]int, n), make([][][]int, n)
	for g, members := range iv.members {
		key := fmt.Sprintf("source_%d->source_%d", g, g+1)
		if g == len(iv.members)-1 {
			key = fmt.Sprintf("source_%d->base", g)
		}
		v, ok := c.pyveneSerial[key]
		if !ok {
			return fmt.Errorf("pv: unit_locations: serial mode needs key %q", key)
		}
		if x, ok := asInt(v); ok {
			for _, i := range members {
				c.srcLocs[i], c.baseLocs[i] = repeat([]int{x}, b), repeat([]int{x}, b)
			}
			continue
		}
		list, ok := v.([]any)
		if !ok || len(list) != 2 {
			return fmt.Errorf("pv: unit_locations %q: want an int or [source, base]", key)
		}
		i0, ok0 := asInt(list[0])
		j0, ok1 := asInt(list[1])
		if ok0 && ok1 {
			for _, i := range members {
				c.srcLocs[i], c.baseLocs[i] = repeat([]int{i0}, b), repeat([]int{j0}, b)
			}
			continue
		}
		for side, dst := range [][][][]int{c.srcLocs, c.baseLocs} {
			per, ok := list[side].([]any)
			if !ok || len(per) != len(members) {
				return fmt.Errorf("pv: unit_locations %q: want one entry per intervention of the step (%d)", key, len(members))
			}
			for j, i := range members {
				u, err := intList3(per[j])
				if err != nil {
					return fmt.Errorf("pv: unit_locations %q: want [example][units] of ints", key)
				}
				dst[i] = u
			}
		}
	}
	c.pyveneSerial = nil
	return nil
}
