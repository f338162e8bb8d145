package pv

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene/lm"
)

// testKind is a configurable kind for registry tests: a vanilla
// interchange with the given info and weights.
type testKind struct {
	info    Info
	weights []Weight
	check   error
	panics  bool
	apply   func(Args) *graph.Node // nil: vanilla
	sub     int                    // SubspaceWidth when not 0, else the width
}

func (k testKind) Info() Info { return k.info }
func (k testKind) Weights(RepresentationConfig, int) []Weight {
	if k.panics {
		panic("weights exploded")
	}
	return k.weights
}
func (k testKind) SubspaceWidth(_ RepresentationConfig, w int) int {
	if k.sub != 0 {
		return k.sub
	}
	return w
}
func (k testKind) Check(RepresentationConfig, int) error { return k.check }
func (k testKind) Apply(a Args) *graph.Node {
	if k.apply != nil {
		return k.apply(a)
	}
	return Interchange(a.Base, a.Source, a.Mask)
}

var kindSeq atomic.Int64

// uniqueType returns a type name no other test (or earlier -count run) used.
func uniqueType(prefix string) Type {
	return Type(fmt.Sprintf("%s_%d", prefix, kindSeq.Add(1)))
}

func TestRegisterRejects(t *testing.T) {
	taken := uniqueType("taken")
	if err := Register(testKind{info: Info{Type: taken, PyveneName: "Taken" + strings.TrimPrefix(string(taken), "taken_") + "Intervention"}}); err != nil {
		t.Fatal(err)
	}
	takenPy := "Taken" + strings.TrimPrefix(string(taken), "taken_") + "Intervention"
	tests := []struct {
		name string
		k    Intervention
		want []string
	}{
		{"nil", nil, []string{"pv: register: nil Intervention"}},
		{"empty type", testKind{}, []string{"Info.Type: empty"}},
		{"space in type", testKind{info: Info{Type: "my gate"}}, []string{"Info.Type", `"my gate"`, "' '"}},
		{"built-in name", testKind{info: Info{Type: Vanilla}}, []string{`Info.Type: "vanilla" is already registered`}},
		{"taken name", testKind{info: Info{Type: taken}}, []string{"Info.Type", string(taken), "already registered"}},
		{"pyvene name as type", testKind{info: Info{Type: "VanillaIntervention"}}, []string{"Info.Type", "pyvene's name of \"vanilla\""}},
		{"taken pyvene name", testKind{info: Info{Type: uniqueType("free"), PyveneName: takenPy}}, []string{"Info.PyveneName", takenPy, string(taken)}},
		{"bad pyvene name", testKind{info: Info{Type: uniqueType("free"), PyveneName: "9Lives"}}, []string{"Info.PyveneName", `"9Lives" is not a Python class name`}},
		{"NaN temperature", testKind{info: Info{Type: uniqueType("free"), Temperature: math.NaN()}}, []string{"Info.Temperature", "NaN"}},
		{"negative temperature", testKind{info: Info{Type: uniqueType("free"), Temperature: -2}}, []string{"Info.Temperature", "-2"}},
		{"bad source", testKind{info: Info{Type: uniqueType("free"), Source: 9}}, []string{"Info.Source", "9 is not valid", "NoSource"}},
		{"collecting with a source", testKind{info: Info{Type: uniqueType("free"), Collects: true}}, []string{"Info.Collects", "NoSource"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(Registered())
			err := Register(tt.k)
			wantErr(t, err, tt.want...)
			if !strings.HasPrefix(err.Error(), "pv: register: ") {
				t.Errorf("error %q lacks the prefix pv: register:", err)
			}
			if got := len(Registered()); got != before {
				t.Errorf("a rejected kind changed the registry: %d types, had %d", got, before)
			}
		})
	}
}

// A registered kind is found in every form ParseType reads, listed after
// the built-ins, and runs.
func TestRegisteredKindIsFound(t *testing.T) {
	typ := uniqueType("found")
	py := "Found" + strings.TrimPrefix(string(typ), "found_") + "Intervention"
	if err := Register(testKind{info: Info{Type: typ, PyveneName: py}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{string(typ), py, "pyvene.models.interventions." + py, "<class 'pyvene.models.interventions." + py + "'>"} {
		if got, err := ParseType(s); err != nil || got != typ {
			t.Errorf("ParseType(%q) = %q, %v; want %q", s, got, err, typ)
		}
	}
	all := Registered()
	if len(all) < len(Types)+1 || fmt.Sprint(all[:len(Types)]) != fmt.Sprint(Types) {
		t.Errorf("Registered() = %v; want the built-ins %v first", all, Types)
	}
	if _, err := ParseType("nope"); err == nil || !strings.Contains(err.Error(), string(typ)) {
		t.Errorf("ParseType error %v does not list %s", err, typ)
	}
	if Trainable(typ) || !Trainable(LowRankRotatedSpace) || Trainable(PCARotatedSpace) || Trainable(Type("nope")) {
		t.Error("Trainable: wrong for a registered, a built-in or an unknown type")
	}
	m := tiny(t)
	run := func(typ Type) string {
		iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1, InterventionType: typ}}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := iv.Forward([]lm.Prompt{prompt(1, 2, 3)}, Sources(prompt(4, 5, 6)), At(2, 2))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(out.Logits)
	}
	if run(Type(py)) != run(Vanilla) {
		t.Error("a registered vanilla interchange differs from vanilla")
	}
}

// Validate reports what a kind declares wrong, naming the representation
// and the weight; a kind that panics is an error, not a crash.
func TestValidateKindSpecs(t *testing.T) {
	m := tiny(t)
	tests := []struct {
		name string
		k    testKind
		want []string
	}{
		{"empty weight name", testKind{weights: []Weight{{Shape: []int{4}}}}, []string{"representations[0].intervention_type", "weight 0", "Name is empty"}},
		{"duplicate weight names", testKind{weights: []Weight{{Name: "a", Shape: []int{4}}, {Name: "a", Shape: []int{4}}}}, []string{"weight 1", `"a" is used twice`}},
		{"zero dimension", testKind{weights: []Weight{{Name: "a", Shape: []int{4, 0}}}}, []string{"weight 0", "Shape [4 0]", "dimension 0 must be at least 1"}},
		{"no shape", testKind{weights: []Weight{{Name: "a"}}}, []string{"weight 0", "Shape is empty"}},
		{"too many values", testKind{weights: []Weight{{Name: "a", Shape: []int{1 << 20, 1 << 20}}}}, []string{"weight 0", "more than MaxWeightElements"}},
		{"orthonormal not tall", testKind{weights: []Weight{{Name: "a", Shape: []int{2, 4}, Orthonormal: true}}}, []string{"weight 0", "Orthonormal needs a shape [n, k] with n >= k; got [2 4]"}},
		{"field error from Check", testKind{check: fieldErr("low_rank_dimension", "0: give one")}, []string{"representations[0].low_rank_dimension: 0: give one"}},
		{"plain error from Check", testKind{check: fmt.Errorf("no gates on tuesdays")}, []string{"representations[0].intervention_type", "no gates on tuesdays"}},
		{"panic", testKind{panics: true}, []string{"representations[0].intervention_type", "panicked: weights exploded"}},
		{"no subspace", testKind{sub: -1}, []string{"representations[0].intervention_type", "SubspaceWidth is -1 for units of width 16; it must be at least 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.k.info.Type = uniqueType("spec")
			if err := Register(tt.k); err != nil {
				t.Fatal(err)
			}
			_, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1, InterventionType: tt.k.info.Type}}})
			wantErr(t, err, tt.want...)
		})
	}
	// An Init of the wrong size, or with NaN, fails New and names the weight.
	for _, tc := range []struct {
		init Init
		want string
	}{
		{func(shape []int, _ *rand.Rand) []float32 { return make([]float32, 3) }, "Init of weight a gave 3 values, want shape [16] (16)"},
		{func(shape []int, _ *rand.Rand) []float32 { return append(make([]float32, 15), float32(math.NaN())) }, "Init of weight a: value 15 is NaN"},
		{func([]int, *rand.Rand) []float32 { panic("boom") }, "Init of weight a panicked: boom"},
	} {
		k := testKind{info: Info{Type: uniqueType("init"), Trainable: true}, weights: []Weight{{Name: "a", Shape: []int{16}, Init: tc.init}}}
		if err := Register(k); err != nil {
			t.Fatal(err)
		}
		_, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1, InterventionType: k.info.Type}}})
		wantErr(t, err, tc.want)
	}
}

// Load of a file naming a type not registered says to register it.
func TestLoadUnregisteredType(t *testing.T) {
	m := tiny(t)
	typ := uniqueType("saved")
	if err := Register(testKind{info: Info{Type: typ, Trainable: true}, weights: []Weight{{Name: "a", Shape: []int{16}, Trainable: true, Init: InitConstant(0.25)}}}); err != nil {
		t.Fatal(err)
	}
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1, InterventionType: typ}}})
	if err != nil {
		t.Fatal(err)
	}
	dir, back := saveLoad(t, iv, m)
	if v, _, err := back.Weight(back.Keys()[0], "a"); err != nil || v[0] != 0.25 {
		t.Errorf("loaded weight %v, %v; want 0.25s", v, err)
	}
	cfg := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	missing := uniqueType("missing")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(string(data), string(typ), string(missing))), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir, m)
	wantErr(t, err, "representations[0].intervention_type", string(missing), "is not registered; register it with pv.Register before Load")
}

// Register and lookups may run concurrently (go test -race checks it).
func TestRegisterConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	typs := make([]Type, 8)
	for i := range typs {
		typs[i] = uniqueType("conc")
	}
	errs := make([]error, len(typs))
	for i, typ := range typs {
		wg.Add(2)
		go func() { defer wg.Done(); errs[i] = Register(testKind{info: Info{Type: typ}}) }()
		go func() { defer wg.Done(); _, _ = ParseType("vanilla"); _ = Registered(); _, _ = Lookup(typ) }()
	}
	wg.Wait()
	for i, typ := range typs {
		if errs[i] != nil {
			t.Errorf("Register(%s): %v", typ, errs[i])
		}
		if _, ok := Lookup(typ); !ok {
			t.Errorf("%s not registered", typ)
		}
	}
}

// Train updates only the weights marked Trainable: a fixed scale stays as
// set while the gate beside it learns, and only the gate counts.
func TestTrainKeepsFixedWeights(t *testing.T) {
	m := tiny(t)
	k := testKind{info: Info{Type: uniqueType("scaled"), Trainable: true},
		weights: []Weight{{Name: "scale", Shape: []int{1}, Init: InitConstant(0.75)}, {Name: "g", Shape: []int{16}, Trainable: true}},
		apply: func(a Args) *graph.Node {
			g := graph.Mul(graph.ExpandLeftToRank(graph.Sigmoid(a.Weights[1]), a.Mask.Rank()), graph.ExpandLeftToRank(a.Weights[0], a.Mask.Rank()))
			return Interchange(a.Base, a.Source, graph.Mul(a.Mask, g))
		}}
	if err := Register(k); err != nil {
		t.Fatal(err)
	}
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 2, InterventionType: k.info.Type}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := iv.TrainableParameters(); got != 16 {
		t.Errorf("TrainableParameters = %d, want 16 (the gate, not the fixed scale)", got)
	}
	_, err = iv.Train(dasTask(t, 8, 5), nil, TrainConfig{Steps: 2, BatchSize: 4, Adam: trainAdam(0.1), Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	scale, _, _ := iv.Weight(iv.Keys()[0], "scale")
	g, _, _ := iv.Weight(iv.Keys()[0], "g")
	if scale[0] != 0.75 {
		t.Errorf("fixed scale trained: %g, want 0.75", scale[0])
	}
	if g[0] == 0 && g[7] == 0 && g[15] == 0 {
		t.Errorf("gate did not train: %v", g)
	}
}

// An Apply returning the wrong shape is an error from Forward and Train,
// not a crash.
func TestApplyOfWrongShape(t *testing.T) {
	m := tiny(t)
	k := testKind{info: Info{Type: uniqueType("flat"), Trainable: true},
		weights: []Weight{{Name: "g", Shape: []int{16}, Trainable: true}},
		apply: func(a Args) *graph.Node {
			return graph.ReduceSum(graph.Mul(a.Base, graph.ExpandLeftToRank(a.Weights[0], 3)), -1)
		}}
	if err := Register(k); err != nil {
		t.Fatal(err)
	}
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1, InterventionType: k.info.Type}}})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Apply of %q returned (Float32)[1, 1], want the base's shape (Float32)[1, 1, 16]", k.info.Type)
	for range 2 { // a second call (same shapes) errs again, it does not hang
		_, err = iv.Forward([]lm.Prompt{prompt(1, 2, 3)}, Sources(prompt(4, 5, 6)), At(2, 2))
		wantErr(t, err, "pv: forward", want)
	}
	for range 2 {
		_, err = iv.Train(dasTask(t, 2, 5), nil, TrainConfig{Steps: 1, BatchSize: 1, Progress: io.Discard})
		wantErr(t, err, "pv: train", "Apply of", "want the base's shape")
	}
}
