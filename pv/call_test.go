package pv

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
)

// Forward with options, with the equivalent govene.Call, and with that Call
// after a JSON round trip give identical outputs.
func TestWithCallMatchesOptions(t *testing.T) {
	m := tiny(t)
	p, q, r := prompt(5, 6, 7, 8), prompt(9, 10, 11), prompt(12, 13, 14, 15, 16)
	g0, g1 := 0, 1
	site := lm.Site{Layer: 2, Component: lm.MLPOutput}
	one := func(rs ...RepresentationConfig) Config { return Config{Representations: rs} }
	tests := []struct {
		name string
		cfg  Config
		base []lm.Prompt
		opts []Option
		call govene.Call
	}{
		{"at with original", one(RepresentationConfig{Layer: 1}), []lm.Prompt{p},
			[]Option{Sources(q), At(1, 2), WithOriginal()},
			govene.NewCall(govene.Sources(q), govene.At(1, 2), govene.WithOriginal())},
		{"units, subspaces, capture, last only", one(RepresentationConfig{Layer: 0, Component: lm.MLPOutput}), []lm.Prompt{p},
			[]Option{Sources(r), AtUnits(0, 1), Subspaces(0, 1, 2), CaptureSites(site, lm.Site{Layer: -1, Component: lm.LNFinal}), LastLogitsOnly()},
			govene.NewCall(govene.Sources(r), govene.AtUnits(0, 1), govene.Subspaces(0, 1, 2), govene.CaptureSites(site, lm.Site{Layer: -1, Component: lm.LNFinal}), govene.LastLogitsOnly())},
		{"noise at base with seed", one(RepresentationConfig{Layer: 1, InterventionType: Noise}), []lm.Prompt{p, r},
			[]Option{AtBase(1, 2), NoiseSeed(7)},
			govene.NewCall(govene.AtBase(1, 2), govene.NoiseSeed(7))},
		{"noise seed zero", one(RepresentationConfig{Layer: 1, InterventionType: Noise}), []lm.Prompt{p},
			[]Option{NoiseSeed(0)},
			govene.NewCall(govene.NoiseSeed(0))},
		{"constant source for all", one(RepresentationConfig{Layer: 1, InterventionType: Addition}), []lm.Prompt{p},
			[]Option{AtBase(1), SourceRepresentation(steerVec())},
			govene.NewCall(govene.AtBase(1), govene.SourceRepresentation(steerVec()))},
		{"source representations by key", one(RepresentationConfig{Layer: 1, InterventionType: Addition}), []lm.Prompt{p},
			[]Option{AtBase(3), SourceRepresentations(map[string][][]float32{"layer_1_comp_block_output_unit_pos_nunit_1#0": {steerVec()}})},
			govene.NewCall(govene.AtBase(3), govene.SourceRepresentations(map[string][][]float32{"layer_1_comp_block_output_unit_pos_nunit_1#0": {steerVec()}}))},
		{"pyvene locations", one(RepresentationConfig{Layer: 2}), []lm.Prompt{p},
			[]Option{Sources(r), PyveneLocations([]byte(`{"sources->base": [4, 0]}`))},
			govene.NewCall(govene.Sources(r), govene.PyveneLocations([]byte(`{"sources->base": [4, 0]}`)))},
		{"collect, explicit locations", one(RepresentationConfig{Layer: 1, InterventionType: Collect}), []lm.Prompt{p, q},
			[]Option{Locations(nil, [][][]int{{{0, 1}, {2, 0}}})},
			govene.NewCall(govene.Locations(nil, [][][]int{{{0, 1}, {2, 0}}}))},
		{"batches and skipped group", one(RepresentationConfig{Layer: 0, GroupKey: &g0}, RepresentationConfig{Layer: 2, GroupKey: &g1}), []lm.Prompt{p, q},
			[]Option{SourceBatches([]lm.Prompt{r, p}, []lm.Prompt{{}, {}}), SkipGroups(1), At(0, 0)},
			govene.NewCall(govene.SourceBatches([]lm.Prompt{r, p}, []lm.Prompt{{}, {}}), govene.SkipGroups(1), govene.At(0, 0))},
		{"head positions", one(RepresentationConfig{Layer: 1, Component: lm.HeadAttentionValueOutput, Unit: HeadPos}), []lm.Prompt{p},
			[]Option{Sources(q), HeadPositions([][][]int{{{1}}}, [][][]int{{{2}}}, [][][]int{{{3}}}, [][][]int{{{0}}})},
			govene.NewCall(govene.Sources(q), govene.HeadPositions([][][]int{{{1}}}, [][][]int{{{2}}}, [][][]int{{{3}}}, [][][]int{{{0}}}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv, err := New(m, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			run := func(opts ...Option) *govene.Output {
				t.Helper()
				out, err := iv.Forward(tt.base, opts...)
				if err != nil {
					t.Fatal(err)
				}
				d, err := out.Data()
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			want := run(tt.opts...)
			if got := run(WithCall(tt.call)); !reflect.DeepEqual(got, want) {
				t.Errorf("WithCall output differs from the options' output")
			}
			js, err := json.Marshal(tt.call)
			if err != nil {
				t.Fatal(err)
			}
			var back govene.Call
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			if got := run(WithCall(back)); !reflect.DeepEqual(got, want) {
				t.Errorf("WithCall after JSON (%s) differs from the options' output", js)
			}
		})
	}
}

// Data copies every part of an output; caches by ID and empty calls fail
// with errors that say what to do.
func TestCallDataAndErrors(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 1, InterventionType: Collect}}})
	if err != nil {
		t.Fatal(err)
	}
	site := lm.Site{Layer: 0, Component: lm.BlockOutput}
	out, err := iv.Forward([]lm.Prompt{prompt(1, 2, 3)}, AtBase(0, 2), WithOriginal(), CaptureSites(site))
	if err != nil {
		t.Fatal(err)
	}
	d, err := out.Data()
	if err != nil {
		t.Fatal(err)
	}
	key := iv.Keys()[0]
	if !reflect.DeepEqual(d.Logits.Shape, []int{1, 3, 97}) || len(d.Logits.Data) != 3*97 || d.Original == nil ||
		!reflect.DeepEqual(d.Collected[key].Shape, []int{1, 2, 16}) || !reflect.DeepEqual(d.Sites[site.String()].Shape, []int{1, 3, 16}) ||
		!reflect.DeepEqual(d.Lengths, []int{3}) {
		t.Errorf("Data: lengths %v, logits %v, original %v, collected %v, sites %v", d.Lengths, d.Logits.Shape, d.Original != nil, d.Collected[key].Shape, d.Sites[site.String()].Shape)
	}
	if _, err := (&Output{}).Data(); err == nil || !strings.Contains(err.Error(), "empty output") {
		t.Errorf("empty Output.Data: %v", err)
	}
	for _, tt := range []struct {
		call govene.Call
		want string
	}{
		{govene.NewCall(govene.SourceCacheIDs("run-1")), "need a session"},
		{govene.Call{SourceRepresentation: [][]float32{}}, "no rows given"},
		{govene.NewCall(govene.PyveneLocations(nil)), "unit_locations"},
	} {
		if _, err := iv.Forward([]lm.Prompt{prompt(1, 2, 3)}, WithCall(tt.call)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Forward(WithCall(%+v)): error %v, want it to contain %q", tt.call, err, tt.want)
		}
	}
}

// RepresentationConfig.Intervention takes a Func or a plain function; any
// other value is an error naming the field.
func TestInterventionFieldTypes(t *testing.T) {
	d := tiny(t).Dims()
	for _, tt := range []struct {
		f    any
		want string
	}{
		{Func(func(b, s *graph.Node) *graph.Node { return b }), ""},
		{func(b, s *graph.Node) *graph.Node { return s }, ""},
		{42, "representations[0].intervention: int is not a pv.Func"},
		{func(b *graph.Node) *graph.Node { return b }, "is not a pv.Func"},
	} {
		err := Config{Representations: []RepresentationConfig{{Layer: 1, Intervention: tt.f}}}.Validate(d)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Intervention %T: error %v, want %q", tt.f, err, tt.want)
		}
	}
}
