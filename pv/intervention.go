package pv

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"
)

// Intervention is one kind of intervention: what an intervention_type
// names. Each built-in type is one implementation (iv_basic.go,
// iv_rotated.go, iv_masks.go, iv_autoencoders.go); Register adds your own.
// Methods other than Info are called with a representation that passed the
// generic checks of Config.Validate, and must not panic (a panic is
// reported as an error where it can be).
type Intervention interface {
	// Info returns the kind's fixed properties. It must return the same
	// value on every call.
	Info() Info
	// Weights lists the weights of an intervention of this kind at
	// representation r, whose units are width wide, in the order Apply
	// receives them; nil for none. Names and count must not depend on
	// width (Validate calls it with width 0 on components without a fixed
	// width, to learn whether there are weights at all).
	Weights(r RepresentationConfig, width int) []Weight
	// SubspaceWidth is the width of the space that subspaces (and
	// subspace partitions) index: width for a kind acting on the units
	// themselves, the rank or latent size for low-rank and autoencoder
	// kinds.
	SubspaceWidth(r RepresentationConfig, width int) int
	// Check returns what is wrong with r for this kind (nil when nothing):
	// errors made with FieldError name the field; errors.Join joins
	// several. width is the units' width, or below 1 on components without
	// a fixed width.
	Check(r RepresentationConfig, width int) error
	// Apply builds the intervened units from a's base and source units,
	// subspace mask, weights and temperature. It returns a node of the
	// shape of a.Base. It is not called for kinds whose Info.Collects.
	// Each example (the first axis) must be computed on its own: a model
	// on several devices runs each part of the batch on its own device.
	Apply(a Args) *graph.Node
}

// Info is the fixed description of an Intervention kind.
type Info struct {
	// Type is the kind's name in configs (intervention_type) and saved
	// files: letters, digits, '_' and '-'. Required and unique.
	Type Type
	// PyveneName is pyvene's class name for the kind
	// ("VanillaIntervention"), which ParseType and configs accept too; ""
	// when pyvene has none. Unique.
	PyveneName string
	// Source says where the source units come from (default FromSourceRun).
	Source SourceFrom
	// Collects marks kinds that read their units into Output.Collected and
	// leave the model alone (Collect); Apply is not called. Such a kind
	// takes no source: its Source must be NoSource.
	Collects bool
	// Trainable says Model.Train updates its weights marked Trainable;
	// Type.Trainable reports it.
	Trainable bool
	// Temperature is the temperature Apply receives at first, for kinds
	// with weights (0 means 1): finite and >= 0.
	Temperature float64
	// Annealed says Model.SetTemperature (and Train's annealing) sets the
	// temperature.
	Annealed bool
}

// SourceFrom says where an intervention kind's source units come from.
type SourceFrom int

// The sources a kind can take.
const (
	// FromSourceRun reads a source run at the intervention's own site (or
	// a constant source: SourceRepresentation).
	FromSourceRun SourceFrom = iota
	// FromModuleInput reads a source run at the input of the module whose
	// output the site is (Skip); it applies to block_output, mlp_output and
	// query/key/value_output.
	FromModuleInput
	// FromNoise gives standard normal noise, drawn for each call (see
	// NoiseSeed); a config's noise_level defaults to pyvene's 0.1346...
	FromNoise
	// NoSource gives none: Args.Source is nil.
	NoSource
)

func (s SourceFrom) valid() bool { return s >= FromSourceRun && s <= NoSource }

// Weight describes one weight of an intervention.
type Weight struct {
	// Name is the weight's name, unique within the kind: Model.Weight and
	// SetWeight take it, and saved files store the weight as KEY/Name.
	Name string
	// PyveneName is pyvene's state-dict name for the weight when it differs
	// ("rotate_layer.weight"); Weight and SetWeight take it too.
	PyveneName string
	// Shape is the weight's shape; every dimension at least 1, at most
	// MaxWeightElements values in all.
	Shape []int
	// Trainable says Train updates the weight (when the kind's Info is
	// Trainable); other weights stay as set (PCA's).
	Trainable bool
	// Orthonormal stores the weight as θ of shape [n, k], n >= k, and gives
	// Apply the orthonormal matrix nearest θ; Train keeps θ orthonormal.
	Orthonormal bool
	// Init draws the initial values; nil means zeros (a random orthonormal
	// matrix for an Orthonormal weight).
	Init Init
	// L1, when set, returns the scalar that TrainConfig.BoundaryL1 weighs in
	// the training loss, computed from the stored weight (the size of a
	// learned mask or boundary).
	L1 func(w *graph.Node) *graph.Node
}

// Init returns a weight's initial values, row-major, for its shape,
// drawing randomness from rng (one generator per intervention, shared by
// its weights in order).
type Init func(shape []int, rng *rand.Rand) []float32

// numValues returns the number of values of shape.
func numValues(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// InitConstant returns an Init that fills the weight with v.
func InitConstant(v float32) Init {
	return func(shape []int, _ *rand.Rand) []float32 {
		out := make([]float32, numValues(shape))
		for i := range out {
			out[i] = v
		}
		return out
	}
}

// InitUniform returns an Init that draws each value uniformly from
// [-bound, bound) (torch.nn.Linear's initialisation with bound
// 1/sqrt(fan_in)).
func InitUniform(bound float64) Init {
	return func(shape []int, rng *rand.Rand) []float32 {
		out := make([]float32, numValues(shape))
		for i := range out {
			out[i] = float32((rng.Float64()*2 - 1) * bound)
		}
		return out
	}
}

// InitOrthonormal is an Init drawing an [n, k] matrix with orthonormal
// columns (Gram-Schmidt of a Gaussian matrix, as torch's orthogonal_). It
// returns zeros for a shape that is not two-dimensional.
func InitOrthonormal(shape []int, rng *rand.Rand) []float32 {
	if len(shape) != 2 {
		return make([]float32, numValues(shape))
	}
	return randomOrthonormal(shape[0], shape[1], rng)
}

// Args are the nodes Intervention.Apply combines.
type Args struct {
	// Config is the intervention's representation (for fields such as
	// NoiseLevel or LowRankDimension).
	Config RepresentationConfig
	// Base holds the base's selected units: [b,k,w] for "pos", [b,k,s,w]
	// for "h", [b,kh,kp,w] for "h.pos", or the whole site.
	Base *graph.Node
	// Source holds the source's units, in Base's shape; nil for NoSource.
	Source *graph.Node
	// Mask is 1 on the selected subspace and 0 elsewhere, in Base's shape
	// but SubspaceWidth wide. Where it is 0 a kind acting on the units
	// should leave them alone (Interchange does).
	Mask *graph.Node
	// Weights holds the weights in Weights order (orthonormal ones as the
	// orthonormal matrix); for linked interventions, the first one's.
	Weights []*graph.Node
	// Temperature is a scalar; nil for kinds without weights.
	Temperature *graph.Node
}

// Interchange returns base with the masked dimensions taken from source:
// base + mask·(source − base). mask broadcasts as in graph.Mul.
func Interchange(base, source, mask *graph.Node) *graph.Node {
	return graph.Add(base, graph.Mul(mask, graph.Sub(source, base)))
}

// FieldError is a problem with one field of a RepresentationConfig, as
// Intervention.Check reports it; Validate adds the representation's index.
type FieldError struct {
	Field string // the field's JSON name, e.g. "low_rank_dimension"
	Msg   string // the value, what is wrong, and the valid choices
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// fieldErr returns a FieldError with a formatted message.
func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// checkLatent checks low_rank_dimension for kinds sized by it: positive, at
// most MaxLatent, at most MaxWeightElements values per matrix of width w,
// and (upToWidth: rotations and PCA bases) at most w.
func checkLatent(r RepresentationConfig, w int, upToWidth bool) error {
	k := r.LowRankDimension
	switch {
	case k <= 0:
		return fieldErr("low_rank_dimension", "%d: %s needs the size of its subspace or latent space (positive)", k, r.InterventionType)
	case upToWidth && w > 0 && k > w:
		return fieldErr("low_rank_dimension", "%d exceeds the width %d of %s; valid: [1, %d]", k, w, r.Component, w)
	case k > MaxLatent:
		return fieldErr("low_rank_dimension", "%d exceeds the limit %d on latent sizes; valid: [1, %d]", k, MaxLatent, MaxLatent)
	case w > 0 && int64(k)*int64(w) > MaxWeightElements:
		return fieldErr("low_rank_dimension", "%d latents of width %d make %d weights per matrix, over the limit %d; valid: [1, %d]", k, w, int64(k)*int64(w), int64(MaxWeightElements), MaxWeightElements/int64(w))
	}
	return nil
}

// unweighted gives the defaults of kinds acting on the units without
// weights: no weights, subspaces of the unit's width, no extra checks.
type unweighted struct{}

func (unweighted) Weights(RepresentationConfig, int) []Weight          { return nil }
func (unweighted) SubspaceWidth(_ RepresentationConfig, width int) int { return width }
func (unweighted) Check(RepresentationConfig, int) error               { return nil }

// funcKind runs a Go function given as RepresentationConfig.Intervention.
type funcKind struct {
	unweighted
	f Func
}

func (funcKind) Info() Info { return Info{} }

func (k funcKind) Apply(a Args) *graph.Node {
	return Interchange(a.Base, k.f(a.Base, a.Source), a.Mask)
}

// protect runs f, returning a panic in it as an error naming what.
func protect(what string, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s panicked: %v", what, p)
		}
	}()
	return f()
}

// checkWeights validates the weights a kind declares for one
// representation: names present and unique, shapes positive and within
// MaxWeightElements, orthonormal weights [n, k] with n >= k.
func checkWeights(ws []Weight) error {
	var errs []error
	seen := map[string]bool{}
	for j, w := range ws {
		bad := func(format string, args ...any) {
			errs = append(errs, fieldErr("intervention_type", "weight %d (%q): "+format, append([]any{j, w.Name}, args...)...))
		}
		switch {
		case w.Name == "":
			bad("Name is empty; name every weight")
		case seen[w.Name] || w.PyveneName != "" && seen[w.PyveneName]:
			bad("Name or PyveneName %q is used twice; names must be unique", w.Name)
		}
		seen[w.Name] = true
		if w.PyveneName != "" {
			seen[w.PyveneName] = true
		}
		n := int64(1)
		for _, d := range w.Shape {
			if d < 1 {
				bad("Shape %v: dimension %d must be at least 1", w.Shape, d)
				n = 0
				break
			}
			if n *= int64(d); n > MaxWeightElements {
				bad("Shape %v has more than MaxWeightElements (%d) values", w.Shape, MaxWeightElements)
				break
			}
		}
		if len(w.Shape) == 0 {
			bad("Shape is empty; give at least one dimension ([1] for a scalar)")
		}
		if w.Orthonormal && (len(w.Shape) != 2 || w.Shape[0] < w.Shape[1]) {
			bad("Orthonormal needs a shape [n, k] with n >= k; got %v", w.Shape)
		}
	}
	return errors.Join(errs...)
}

// checkInfo validates a kind's Info for Register.
func checkInfo(info Info) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("Info.%s: "+format, append([]any{field}, args...)...))
	}
	if info.Type == "" {
		bad("Type", "empty; name the type (letters, digits, '_' and '-')")
	}
	for _, c := range info.Type {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			bad("Type", "%q has the character %q; use letters, digits, '_' and '-'", info.Type, c)
			break
		}
	}
	for i, c := range info.PyveneName {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			bad("PyveneName", "%q is not a Python class name", info.PyveneName)
			break
		}
	}
	if !info.Source.valid() {
		bad("Source", "%d is not valid; valid: FromSourceRun, FromModuleInput, FromNoise, NoSource", info.Source)
	}
	if info.Collects && info.Source != NoSource {
		bad("Collects", "a collecting kind takes no source; set Source to NoSource")
	}
	if t := info.Temperature; math.IsNaN(t) || math.IsInf(t, 0) || t < 0 || t > math.MaxFloat32 {
		bad("Temperature", "%g must be a finite float32 >= 0 (0 means 1)", t)
	}
	return errors.Join(errs...)
}
