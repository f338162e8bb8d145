package pv

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/safetensors"
)

// pvCase is one case of pv/testdata/pv_cases.json, written by
// oracle/make_pv_fixtures.py from pyvene 0.1.8.
type pvCase struct {
	Name   string `json:"name"`
	Config struct {
		Mode            string `json:"mode"`
		Representations []struct {
			Layer                int     `json:"layer"`
			Component            string  `json:"component"`
			Unit                 string  `json:"unit"`
			MaxNumberOfUnits     int     `json:"max_number_of_units"`
			InterventionType     Type    `json:"intervention_type"`
			SubspacePartition    [][]int `json:"subspace_partition"`
			GroupKey             *int    `json:"group_key"`
			InterventionLinkKey  *int    `json:"intervention_link_key"`
			SourceRepresentation *string `json:"source_representation"`
		} `json:"representations"`
	} `json:"config"`
	Base           [][]int         `json:"base"`
	Sources        [][][]int       `json:"sources"`
	UnitLocations  json.RawMessage `json:"unit_locations"`
	LocationsRepr  string          `json:"unit_locations_repr"`
	Subspaces      json.RawMessage `json:"subspaces"`
	SourceReps     json.RawMessage `json:"source_representations"`
	Keys           []string        `json:"keys"`
	Original       string          `json:"original"`
	Intervened     string          `json:"intervened"`
	Collected      []string        `json:"collected"`
	MatchesCorrect bool            `json:"matches_correct"`
	Correct        *struct {
		Intervened string   `json:"intervened"`
		Collected  []string `json:"collected"`
	} `json:"correct"`
	Error string `json:"error"`
}

// Cases where govene follows pyvene's documented semantics even though the
// fixture script's independent implementation reads them differently:
// linked interventions at different layers (the later one starts from the
// earlier one's output, as pyvene documents).
var followPyvene = map[string]bool{"linked_add_layers": true}

// Cases pyvene rejects that govene runs, with the intended answer.
var acceptedErrors = map[string]bool{"group_key_descending": true, "site_attention_weight": true}

var oddModel = sync.OnceValues(func() (*gpt2.Model, error) {
	return gpt2.LoadDir(filepath.Join("..", "gpt2", "testdata", "odd"), gpt2.Options{})
})

func TestParityWithPyvene(t *testing.T) {
	m, cases, ref := loadParity[pvCase](t, "pv", 80)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { runPvCase(t, m, ref, c) })
	}
}

// loadParity returns the odd model, the cases of testdata/<name>_cases.json
// (failing t when there are fewer than least) and the reference tensors of
// testdata/<name>_reference.safetensors, closed when the test ends.
func loadParity[C any](t *testing.T, name string, least int) (*gpt2.Model, []C, *safetensors.File) {
	t.Helper()
	m, err := oddModel()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", name+"_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []C
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	ref, err := safetensors.Open(filepath.Join("testdata", name+"_reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	if len(cases) < least {
		t.Fatalf("only %d cases", len(cases))
	}
	return m, cases, ref
}

// config returns the case's config, with its source representations read
// from ref, or fails t.
func (c pvCase) config(t *testing.T, ref *safetensors.File) Config {
	t.Helper()
	cfg := Config{Mode: Mode(c.Config.Mode)}
	for _, r := range c.Config.Representations {
		rc := RepresentationConfig{Layer: r.Layer, Component: lm.Component(r.Component), Unit: Unit(r.Unit),
			MaxNumberOfUnits: r.MaxNumberOfUnits, InterventionType: r.InterventionType,
			SubspacePartition: r.SubspacePartition, GroupKey: r.GroupKey, InterventionLinkKey: r.InterventionLinkKey}
		if r.SourceRepresentation != nil {
			v, _, err := ref.Float32(*r.SourceRepresentation)
			if err != nil {
				t.Fatal(err)
			}
			rc.SourceRepresentation = v
		}
		cfg.Representations = append(cfg.Representations, rc)
	}
	return cfg
}

func runPvCase(t *testing.T, m *gpt2.Model, ref *safetensors.File, c pvCase) {
	iv, err := New(m, c.config(t, ref))
	if err == nil && !slices.Equal(iv.Keys(), sortedAsPyvene(c.Keys, iv.Keys())) {
		t.Fatalf("keys %v, pyvene's %v", iv.Keys(), c.Keys)
	}
	var out *Output
	if err == nil {
		out, err = iv.Forward(prompts(c.Base), caseOptions(t, c, iv, ref)...)
	}
	if c.Error != "" && !acceptedErrors[c.Name] {
		if err == nil {
			t.Fatalf("pyvene raised %q; govene returned a result instead of an error", c.Error)
		}
		t.Logf("pyvene: %s; govene: %v", c.Error, err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if c.Error != "" && c.Correct == nil {
		return // pyvene raised and recorded no intended answer: running is enough
	}
	wantLogits, wantCollected := c.Intervened, c.Collected
	if c.Correct != nil && !followPyvene[c.Name] {
		wantLogits, wantCollected = c.Correct.Intervened, c.Correct.Collected
	}
	if wantLogits != "" {
		compareTensor(t, "intervened logits", out.Logits, ref, wantLogits)
	}
	for j, name := range wantCollected {
		key := iv.Keys()[collectIndex(iv, j)]
		compareTensor(t, "collected "+key, out.Collected[key], ref, name)
	}
}

// sortedAsPyvene checks our keys hold pyvene's (pyvene sorts them; the
// fixtures' configs are in layer order, so the orders agree).
func sortedAsPyvene(pyvene, ours []string) []string {
	if len(pyvene) == 0 {
		return ours
	}
	return pyvene
}

// collectIndex returns the representation index of the j-th Collect.
func collectIndex(iv *Model, j int) int {
	for i, r := range iv.cfg.Representations {
		if r.InterventionType == Collect {
			if j == 0 {
				return i
			}
			j--
		}
	}
	return -1
}

func prompts(ids [][]int) []lm.Prompt {
	var out []lm.Prompt
	for _, p := range ids {
		out = append(out, lm.Prompt{IDs: p})
	}
	return out
}

// caseOptions turns a case's pyvene arguments into Forward options.
func caseOptions(t *testing.T, c pvCase, iv *Model, ref *safetensors.File) []Option {
	t.Helper()
	var opts []Option
	for _, s := range c.Sources {
		opts = append(opts, SourceBatches(prompts(s)))
	}
	// Sources given as source_representations: by key.
	if len(c.SourceReps) > 0 && string(c.SourceReps) != "null" {
		byKey := map[string]string{}
		var one string
		var list []string
		var dict map[string]string
		switch {
		case json.Unmarshal(c.SourceReps, &one) == nil:
			for _, k := range c.Keys {
				byKey[k] = one
			}
		case json.Unmarshal(c.SourceReps, &list) == nil:
			for i, k := range c.Keys {
				byKey[k] = list[i]
			}
		case json.Unmarshal(c.SourceReps, &dict) == nil:
			byKey = dict
		}
		feed := map[string][][]float32{}
		for k, name := range byKey {
			v, shape, err := ref.Float32(name)
			if err != nil {
				t.Fatal(err)
			}
			w := shape[len(shape)-1]
			var rows [][]float32
			for i := 0; i < len(v); i += w {
				rows = append(rows, v[i:i+w])
			}
			feed[k] = rows
		}
		opts = append(opts, SourceRepresentations(feed))
		if len(c.Sources) == 0 {
			// Interventions without a fed value get pyvene's None source.
			for g := range iv.groups {
				opts = append(opts, SkipGroups(g))
			}
		}
	}
	if len(c.Subspaces) > 0 && string(c.Subspaces) != "null" {
		var one int
		var flat []int
		var full [][][]int
		switch {
		case json.Unmarshal(c.Subspaces, &one) == nil:
			opts = append(opts, Subspaces(one))
		case json.Unmarshal(c.Subspaces, &flat) == nil:
			opts = append(opts, Subspaces(flat...))
		case json.Unmarshal(c.Subspaces, &full) == nil:
			opts = append(opts, SubspacesPer(full))
		default:
			t.Fatalf("unreadable subspaces %s", c.Subspaces)
		}
	}
	if c.Config.Mode == "serial" {
		return append(opts, PyveneLocations(c.UnitLocations))
	}
	// A 2-element Python list (not tuple) means two units in the intended
	// semantics; pyvene reads it as a pair.
	if strings.Contains(c.LocationsRepr, ": [") && !strings.Contains(c.LocationsRepr, "[[") {
		var m map[string][]int
		if json.Unmarshal(c.UnitLocations, &m) == nil {
			for k, v := range m {
				if k == "base" {
					return append(opts, AtBase(v...))
				}
				return append(opts, AtUnits(v...))
			}
		}
	}
	if len(c.UnitLocations) > 0 && string(c.UnitLocations) != "null" {
		opts = append(opts, PyveneLocations(c.UnitLocations))
	}
	return opts
}

func compareTensor(t *testing.T, what string, got *tensors.Tensor, ref *safetensors.File, name string) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: missing", what)
		return
	}
	want, wshape, err := ref.Float32(name)
	if err != nil {
		t.Fatal(err)
	}
	if gs := got.Shape().Dimensions; !slices.Equal(gs, wshape) {
		t.Errorf("%s: shape %v, pyvene %v", what, gs, wshape)
		return
	}
	g := tensors.MustCopyFlatData[float32](got)
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	worst, at := 0.0, 0
	for i := range want {
		if d := math.Abs(float64(g[i] - want[i])); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if tol := 1e-5*scale + 1e-6; worst > tol || math.IsNaN(worst) {
		t.Errorf("%s: max |diff| %.3g at %d (got %g, pyvene %g), tolerance %.3g", what, worst, at, g[at], want[at], tol)
	}
}
