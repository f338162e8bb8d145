package pv

import (
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/safetensors"
)

// dasCase is one case of pv/testdata/das_cases.json, written by
// oracle/make_das_fixtures.py from pyvene 0.1.8 forward passes with
// trainable and basis interventions (schema in pv/testdata/das_notes.md).
type dasCase struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Config      struct {
		Layer            int    `json:"layer"`
		Component        string `json:"component"`
		Unit             string `json:"unit"`
		MaxNumberOfUnits int    `json:"max_number_of_units"`
		InterventionType Type   `json:"intervention_type"`
		LowRankDimension *int   `json:"low_rank_dimension"`
	} `json:"config"`
	Base            [][]int                 `json:"base"`
	Sources         [][][]int               `json:"sources"`
	UnitLocations   map[string][2][][][]int `json:"unit_locations"`
	GoveneSubspaces [][][]int               `json:"govene_subspaces"`
	Temperature     *float64                `json:"temperature"`
	Keys            []string                `json:"keys"`
	Weights         map[string]string       `json:"weights"`
	WeightShapes    map[string][]int        `json:"weight_shapes"`
	Intervened      string                  `json:"intervened"`
	Error           string                  `json:"error"`
	Govene          string                  `json:"govene"`
	GoveneExpected  string                  `json:"govene_expected"`
}

// TestDASParity checks every trainable / basis intervention type's forward
// pass against pyvene with pyvene's own weights (set with SetWeight).
func TestDASParity(t *testing.T) {
	m, cases, ref := loadParity[dasCase](t, "das", 20)
	seen := map[Type]bool{}
	for _, c := range cases {
		seen[c.Config.InterventionType] = true
		t.Run(c.Name, func(t *testing.T) { runDASCase(t, m, ref, c) })
	}
	for _, typ := range []Type{RotatedSpace, LowRankRotatedSpace, BoundlessRotatedSpace, SigmoidMaskRotatedSpace,
		SigmoidMask, PCARotatedSpace, Autoencoder, JumpReLUAutoencoder} {
		if !seen[typ] {
			t.Errorf("no case for %s", typ)
		}
	}
}

func runDASCase(t *testing.T, m *gpt2.Model, ref *safetensors.File, c dasCase) {
	r := RepresentationConfig{Layer: c.Config.Layer, Component: lm.Component(c.Config.Component),
		Unit: Unit(c.Config.Unit), MaxNumberOfUnits: c.Config.MaxNumberOfUnits, InterventionType: c.Config.InterventionType}
	if !slices.Contains(Types, r.InterventionType) {
		t.Fatalf("unknown intervention type %q", r.InterventionType)
	}
	if c.Config.LowRankDimension != nil {
		r.LowRankDimension = *c.Config.LowRankDimension
	}
	iv, err := New(m, Config{Representations: []RepresentationConfig{r}})
	if err != nil {
		t.Fatal(err)
	}
	key := iv.Keys()[0]
	if len(c.Keys) != 1 || c.Keys[0] != key {
		t.Errorf("key %q, pyvene's %v", key, c.Keys)
	}

	// Every weight govene has must come from pyvene.
	specs := weightSpecs(iv.cfg.Representations[0], unitWidthOf(m.Dims(), r))
	var want []string
	for _, s := range specs {
		want = append(want, s.name)
	}
	var have []string
	for name := range c.Weights {
		have = append(have, name)
	}
	sort.Strings(want)
	sort.Strings(have)
	if !slices.Equal(want, have) {
		t.Fatalf("govene's weights %v, the fixture's %v", want, have)
	}
	for _, s := range specs {
		if c.Govene == "run_only" {
			break // pyvene raised; its weights need not fit govene's shapes
		}
		v, shape, err := ref.Float32(c.Weights[s.name])
		if err != nil {
			t.Fatal(err)
		}
		err = iv.SetWeight(key, s.name, v)
		if c.Govene == "not_expressible" {
			if err == nil {
				t.Fatalf("pyvene's %s %v has no govene form, yet SetWeight took it", s.name, shape)
			}
			t.Skipf("not expressible in govene (pyvene: %s %v; govene %v): %v", s.name, shape, s.shape, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(shape, s.shape) {
			t.Fatalf("%s: fixture shape %v, govene's %v", s.name, shape, s.shape)
		}
		got, _, err := iv.Weight(key, s.name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, v) {
			t.Fatalf("%s: Weight does not return what SetWeight was given", s.name)
		}
	}
	if c.Temperature != nil {
		if err := iv.SetTemperature(*c.Temperature); err != nil {
			t.Fatal(err)
		}
	}

	locs, ok := c.UnitLocations["sources->base"]
	if !ok || len(c.Sources) != 1 {
		t.Fatalf("want one source and sources->base locations; got %d sources, %v", len(c.Sources), c.UnitLocations)
	}
	opts := []Option{SourceBatches(prompts(c.Sources[0])), Locations(locs[0], locs[1])}
	if c.GoveneSubspaces != nil {
		opts = append(opts, SubspacesPer(c.GoveneSubspaces))
	}
	out, err := iv.Forward(prompts(c.Base), opts...)

	var wantLogits string
	switch c.Govene {
	case "compare", "blockdiag":
		wantLogits = c.Intervened
	case "expected":
		wantLogits = c.GoveneExpected
	case "run_only":
		t.Logf("pyvene: %s; govene: err=%v", c.Error, err)
		return
	default:
		t.Fatalf("unknown govene mode %q", c.Govene)
	}
	if err != nil {
		t.Fatal(err)
	}
	if c.Error != "" {
		t.Logf("pyvene raised %s; checking govene's answer %s", c.Error, wantLogits)
	}
	if wantLogits == "" {
		t.Fatal("no logits to compare with")
	}
	compareTensor(t, "intervened logits", out.Logits, ref, wantLogits)
	if w, _, err := ref.Float32(wantLogits); err == nil && out.Logits != nil {
		g := tensors.MustCopyFlatData[float32](out.Logits)
		worst, scale := 0.0, 0.0
		for i := range w {
			worst = math.Max(worst, math.Abs(float64(g[i]-w[i])))
			scale = math.Max(scale, math.Abs(float64(w[i])))
		}
		t.Logf("max |diff| %.3g (max |ref| %.3g, tolerance %.3g)", worst, scale, 1e-5*scale+1e-6)
	}
}
