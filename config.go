package govene

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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

// Type names an intervention: a built-in type (the constants below) or one
// registered with pv.Register. pyvene's class names ("VanillaIntervention")
// are kept as given when a config is decoded; pv maps them to govene's
// names when it validates or builds the config (pv.ParseType).
type Type string

// The built-in intervention types.
const (
	Vanilla     Type = "vanilla"     // b[S] = s[S]
	Addition    Type = "addition"    // b[S] += s[S]
	Subtraction Type = "subtraction" // b[S] -= s[S]
	Zero        Type = "zero"        // b[S] = 0; no source
	Collect     Type = "collect"     // returns b[S]; changes nothing
	Noise       Type = "noise"       // b += noise * level; no source
	// Skip replaces a module's output by its input (pyvene's
	// SkipIntervention).
	Skip Type = "skip"

	RotatedSpace          Type = "rotated_space"           // ((rb)[S] <- (rs)[S])·Wᵀ, W n×n
	LowRankRotatedSpace   Type = "low_rank_rotated_space"  // b + ((rs-rb)[S])·W[:,S]ᵀ, W n×r
	BoundlessRotatedSpace Type = "boundless_rotated_space" // learned soft boundary in rotated space
	PCARotatedSpace       Type = "pca_rotated_space"       // swap in a fixed PCA basis

	SigmoidMaskRotatedSpace Type = "sigmoid_mask_rotated_space" // learned sigmoid mask in rotated space
	SigmoidMask             Type = "sigmoid_mask"               // learned sigmoid mask in the neuron basis

	Autoencoder         Type = "autoencoder"          // swap latents of a ReLU autoencoder
	JumpReLUAutoencoder Type = "jumprelu_autoencoder" // swap latents of a JumpReLU SAE
)

// RepresentationConfig says where one intervention acts and what it does.
// It mirrors pyvene's RepresentationConfig field for field.
type RepresentationConfig struct {
	Layer     int       `json:"layer"`
	Component Component `json:"component"`
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
	// Intervention is a pv.Func (or a plain func(base, source *graph.Node)
	// *graph.Node), for a Go function as the intervention in process; pv
	// refuses a value of any other type with an error naming this field.
	// It is not data: it is not saved, and a session refuses it (register
	// a named kind with pv.Register, or use a built-in type, instead).
	Intervention any `json:"-"`
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

// builtinPyvene maps pyvene's class names of the built-in types to them.
var builtinPyvene = map[string]Type{
	"VanillaIntervention": Vanilla, "AdditionIntervention": Addition,
	"SubtractionIntervention": Subtraction, "ZeroIntervention": Zero,
	"CollectIntervention": Collect, "NoiseIntervention": Noise, "SkipIntervention": Skip,
	"RotatedSpaceIntervention": RotatedSpace, "LowRankRotatedSpaceIntervention": LowRankRotatedSpace,
	"BoundlessRotatedSpaceIntervention": BoundlessRotatedSpace, "PCARotatedSpaceIntervention": PCARotatedSpace,
	"SigmoidMaskRotatedSpaceIntervention": SigmoidMaskRotatedSpace, "SigmoidMaskIntervention": SigmoidMask,
	"AutoencoderIntervention": Autoencoder, "JumpReLUAutoencoderIntervention": JumpReLUAutoencoder,
}

// UnmarshalJSON reads a type name. pyvene's class names of the built-in
// types, also as pyvene writes them in a saved config
// ("pyvene.models.interventions.X", "<class '...X'>"), become govene's
// names; any other name is kept as given (pv maps the pyvene names of
// registered types, and reports unknown names with their field, when it
// validates the config). A JSON value that is not a string is json's error.
func (t *Type) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	name := strings.TrimSuffix(strings.TrimPrefix(s, "<class '"), "'>")
	if p, ok := builtinPyvene[name[strings.LastIndex(name, ".")+1:]]; ok {
		*t = p
		return nil
	}
	*t = Type(s)
	return nil
}
