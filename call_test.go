package govene

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The constructors set the fields pv's options read, and a Call survives a
// JSON round trip.
func TestNewCall(t *testing.T) {
	seed := uint64(0)
	p, q := Prompt{IDs: []int{1, 2}}, Prompt{IDs: []int{3}}
	tests := []struct {
		name string
		got  Call
		want Call
	}{
		{"sources add up", NewCall(Sources(p, q), SourceBatches([]Prompt{q, p})),
			Call{Sources: [][]Prompt{{p}, {q}, {q, p}}}},
		{"at", NewCall(At(1, 2)), Call{Locations: &UnitLocations{Source: [][][]int{{{1}}}, Base: [][][]int{{{2}}}}}},
		{"later locations replace", NewCall(At(1, 2), AtBase(0, 3)), Call{Locations: &UnitLocations{Base: [][][]int{{{0, 3}}}, BaseOnly: true}}},
		{"units", NewCall(AtUnits(4, 5)), Call{Locations: &UnitLocations{Source: [][][]int{{{4, 5}}}, Base: [][][]int{{{4, 5}}}}}},
		{"explicit base only", NewCall(Locations(nil, [][][]int{{{1}}})), Call{Locations: &UnitLocations{Base: [][][]int{{{1}}}, BaseOnly: true}}},
		{"heads", NewCall(HeadPositions([][][]int{{{1}}}, [][][]int{{{2}}}, [][][]int{{{3}}}, [][][]int{{{4}}})),
			Call{Locations: &UnitLocations{SourceHeads: [][][]int{{{1}}}, Source: [][][]int{{{2}}}, BaseHeads: [][][]int{{{3}}}, Base: [][][]int{{{4}}}}}},
		{"flags, seed 0, sites, groups", NewCall(WithOriginal(), LastLogitsOnly(), NoiseSeed(0), CaptureSites(Site{-1, Embed}), CaptureSites(Site{1, MLPOutput}), SkipGroups(1), SkipGroups(2), nil),
			Call{WithOriginal: true, LastLogitsOnly: true, NoiseSeed: &seed, CaptureSites: []Site{{-1, Embed}, {1, MLPOutput}}, SkipGroups: []int{1, 2}}},
		{"subspaces and sources of values", NewCall(Subspaces(0, 1), SourceRepresentation([]float32{1, 2}), SourceRepresentations(map[string][][]float32{"k": {{3}}})),
			Call{Subspaces: [][][]int{{{0, 1}}}, SourceRepresentation: [][]float32{{1, 2}}, SourceRepresentations: map[string][][]float32{"k": {{3}}}}},
		{"pyvene and cache ids", NewCall(PyveneLocations([]byte(`{"base":1}`)), SourceCacheIDs("a", "b")),
			Call{PyveneLocations: json.RawMessage(`{"base":1}`), SourceCacheIDs: []string{"a", "b"}}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, tt.got, tt.want)
		}
		js, err := json.Marshal(tt.got)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var back Call
		if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, tt.want) {
			t.Errorf("%s: JSON %s reads back as %+v, %v", tt.name, js, back, err)
		}
	}
}

// Decoding a type maps pyvene's class names of the built-in types and keeps
// other names as given.
func TestTypeUnmarshalJSON(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Type
		wantErr bool
	}{
		{`"vanilla"`, Vanilla, false},
		{`"VanillaIntervention"`, Vanilla, false},
		{`"pyvene.models.interventions.NoiseIntervention"`, Noise, false},
		{`"<class 'pyvene.models.interventions.LowRankRotatedSpaceIntervention'>"`, LowRankRotatedSpace, false},
		{`"GateIntervention"`, "GateIntervention", false},
		{`3`, "", true},
	} {
		var got Type
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Unmarshal(%s) = %q, %v; want %q (error: %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
