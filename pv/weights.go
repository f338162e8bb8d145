package pv

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// maskWidth is the width of the subspace an intervention's subspaces index
// (its kind's SubspaceWidth): the rotated dimensions of a low-rank
// rotation, the latents of an autoencoder or PCA basis, else the unit's
// width w.
func maskWidth(k Intervention, r RepresentationConfig, w int) int { return k.SubspaceWidth(r, w) }

// temperatureOf is a kind's initial temperature (its Info's, 0 meaning 1).
func temperatureOf(info Info) float64 {
	if info.Temperature == 0 {
		return 1
	}
	return info.Temperature
}

// owner returns the representation whose weights representation i uses:
// the first one with the same intervention_link_key, else i itself.
func (iv *Model) owner(i int) int {
	r := iv.cfg.Representations[i]
	if r.InterventionLinkKey == nil {
		return i
	}
	for j, q := range iv.cfg.Representations[:i] {
		if q.InterventionLinkKey != nil && *q.InterventionLinkKey == *r.InterventionLinkKey {
			return j
		}
	}
	return i
}

// initWeights resolves each representation's kind and weights, and creates
// the weights (linked ones once) and temperatures. A kind's Init that fails
// is an error naming the representation.
func (iv *Model) initWeights(seed uint64) error {
	d := iv.model.Dims()
	n := len(iv.cfg.Representations)
	iv.kinds, iv.infos, iv.specs = make([]Intervention, n), make([]Info, n), make([][]weightSpec, n)
	iv.weights = make([][]*tensors.Tensor, n)
	iv.temps = make([]float64, n)
	for i, r := range iv.cfg.Representations {
		k, ok := kindOf(r)
		if !ok { // Validate ran: only a type unknown to the registry gets here
			return fmt.Errorf("pv: representations[%d].intervention_type: %q is not registered; register it with pv.Register first", i, r.InterventionType)
		}
		iv.kinds[i], iv.infos[i] = k, k.Info()
		if w := unitWidthOf(d, r); w > 0 {
			iv.specs[i] = weightSpecs(r, w)
		}
		iv.temps[i] = temperatureOf(iv.infos[i])
		if len(iv.specs[i]) == 0 || iv.owner(i) != i {
			continue
		}
		ws, err := initialWeights(iv.specs[i], seed+uint64(i))
		if err != nil {
			return fmt.Errorf("pv: %s: %w", iv.keys[i], err)
		}
		iv.weights[i] = ws
	}
	return nil
}

// weighted reports whether representation i's intervention has weights
// (and so a temperature input).
func (iv *Model) weighted(i int) bool { return len(iv.specs[i]) > 0 }

// unitWidthOf is the width of r's units (attention patterns excluded).
func unitWidthOf(d lm.Dims, r RepresentationConfig) int { return d.Width(r.Component) }

// weightArgs returns the weight tensors and temperatures as graph inputs,
// in the order weightNodes reads them.
func (iv *Model) weightArgs() []any {
	iv.wmu.RLock()
	defer iv.wmu.RUnlock()
	var args []any
	for i := range iv.cfg.Representations {
		for _, t := range iv.weights[i] {
			args = append(args, t)
		}
	}
	for i := range iv.cfg.Representations {
		if iv.weighted(i) {
			args = append(args, tensors.FromScalar(float32(iv.temps[i])))
		}
	}
	return args
}

// weightNodes splits the weight inputs into each representation's weights
// (linked ones sharing their owner's) and temperatures.
func (iv *Model) weightNodes(in []*graph.Node) (weights [][]*graph.Node, temps []*graph.Node) {
	weights = make([][]*graph.Node, len(iv.cfg.Representations))
	temps = make([]*graph.Node, len(iv.cfg.Representations))
	k := 0
	for i := range iv.cfg.Representations {
		n := len(iv.weights[i])
		weights[i] = in[k : k+n]
		k += n
	}
	for i := range iv.cfg.Representations {
		if o := iv.owner(i); o != i {
			weights[i] = weights[o]
		}
		if iv.weighted(i) {
			temps[i] = in[k]
			k++
		}
	}
	return weights, temps
}

// SetTemperature sets the temperature of every intervention whose kind is
// Annealed: Boundless and sigmoid-mask ones among the built-ins (pyvene's
// set_temperature). A temperature that is not a
// finite positive float32 is an error (temperatures divide), and changes
// nothing.
func (iv *Model) SetTemperature(t float64) error {
	if !finite(t) || t <= 0 || t > math.MaxFloat32 {
		return fmt.Errorf("pv: set temperature: %g must be a finite number > 0", t)
	}
	iv.wmu.Lock()
	defer iv.wmu.Unlock()
	for i, info := range iv.infos {
		if info.Annealed {
			iv.temps[i] = t
		}
	}
	return nil
}

// findWeight returns the index in specs of the weight called name, by
// govene's or pyvene's name; otherwise an error (what names the caller)
// listing the valid names, with a pointer for pyvene state-dict entries that
// are not weights in govene.
func findWeight(what, key, name string, specs []weightSpec) (int, error) {
	if len(specs) == 0 {
		return -1, fmt.Errorf("pv: %s %q of %s: this intervention has no weights (only rotations, masks, PCA and autoencoders do)", what, name, key)
	}
	var names []string
	for j, s := range specs {
		if name == s.name || s.pyvene != "" && name == s.pyvene {
			return j, nil
		}
		n := s.name
		if s.pyvene != "" {
			n += " (pyvene: " + s.pyvene + ")"
		}
		names = append(names, n)
	}
	hint := ""
	switch {
	case strings.HasPrefix(name, "rotate_layer.parametrizations."):
		hint = "; that is torch's raw parameter of the orthogonal parametrization, not the rotation: pass the orthonormal matrix itself (pyvene: intervention.rotate_layer.weight) as rotate_layer.weight"
	case name == "temperature":
		hint = "; the temperature is not a weight in govene: use Model.SetTemperature"
	case name == "intervention_population" || name == "embed_dim" || name == "interchange_dim":
		hint = "; govene derives " + name + " from the config, it is not a weight"
	}
	return -1, fmt.Errorf("pv: %s %q of %s: unknown weight name; valid: %s%s", what, name, key, strings.Join(names, ", "), hint)
}

// Weight returns a copy of weight name of the intervention with key key (for
// rotations, the orthonormal matrix in use), and its shape. Names are
// govene's or pyvene's (rotate_layer or rotate_layer.weight, encoder.weight
// or autoencoder.encoder.0.weight, ...). Unknown keys or names are errors
// listing the valid ones.
func (iv *Model) Weight(key, name string) ([]float32, []int, error) {
	i := slices.Index(iv.keys, key)
	if i < 0 {
		return nil, nil, fmt.Errorf("pv: weight: unknown key %q; keys: %v", key, iv.keys)
	}
	i = iv.owner(i)
	specs := iv.specs[i]
	j, err := findWeight("weight", key, name, specs)
	if err != nil {
		return nil, nil, err
	}
	iv.wmu.RLock()
	defer iv.wmu.RUnlock()
	v, err := tensors.CopyFlatData[float32](iv.weights[i][j])
	return v, specs[j].shape, err
}

// SetWeight replaces weight name of the intervention with key key (for
// rotations, give an orthonormal matrix: it is used as given, as pyvene's
// rotate_layer.weight, not torch's parametrization.original). Names are as
// for Weight. An unknown name is an error listing the valid ones; a wrong
// size is an error naming the expected shape; a NaN or
// infinite value is an error naming its index.
func (iv *Model) SetWeight(key, name string, values []float32) error {
	i := slices.Index(iv.keys, key)
	if i < 0 {
		return fmt.Errorf("pv: set weight: unknown key %q; keys: %v", key, iv.keys)
	}
	i = iv.owner(i)
	specs := iv.specs[i]
	j, err := findWeight("set weight", key, name, specs)
	if err != nil {
		return err
	}
	s := specs[j]
	size := 1
	for _, d := range s.shape {
		size *= d
	}
	if len(values) != size {
		return fmt.Errorf("pv: set weight %s of %s: %d values, want shape %v (%d)", name, key, len(values), s.shape, size)
	}
	if err := checkFinite(fmt.Sprintf("pv: set weight %s of %s", name, key), values); err != nil {
		return err
	}
	iv.wmu.Lock()
	defer iv.wmu.Unlock()
	iv.weights[i][j] = tensors.FromFlatDataAndDimensions(slices.Clone(values), s.shape...)
	return nil
}

func copyF32(t *tensors.Tensor) ([]float32, error) { return tensors.CopyFlatData[float32](t) }
