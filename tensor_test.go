package govene

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestTensorJSON(t *testing.T) {
	nan := float32(math.NaN())
	in := Tensor{Shape: []int{2, 2}, Data: []float32{1, nan, float32(math.Inf(-1)), -0.5}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), `{"shape":[2,2],"data":"`) {
		t.Errorf("Marshal = %s, want the shape and base64 data", data)
	}
	var out Tensor
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	for i := range in.Data {
		if math.Float32bits(in.Data[i]) != math.Float32bits(out.Data[i]) {
			t.Errorf("value %d: %v, want %v", i, out.Data[i], in.Data[i])
		}
	}
	tests := []struct {
		name, in, err string
		shape         []int
	}{
		{name: "vector without shape", in: `{"data":[1,2,3]}`, shape: []int{3}},
		{name: "scalar", in: `{"shape":[],"data":[4]}`, shape: []int{}},
		{name: "shape mismatch", in: `{"shape":[2],"data":[1]}`, err: "shape [2] holds 2 values but Data has 1"},
		{name: "negative dimension", in: `{"shape":[-1],"data":[]}`, err: "dimension 0 is -1"},
		{name: "unknown field", in: `{"shape":[1],"values":[1]}`, err: `unknown field "values"`},
		{name: "blob without shape", in: `{"blob":0}`, err: "blob 0 needs a shape"},
		{name: "data and blob", in: `{"shape":[1],"data":[1],"blob":0}`, err: "give data or blob, not both"},
		{name: "bad blob", in: `{"shape":[1],"blob":-1}`, err: "blob -1 is not a blob index"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got Tensor
			err := json.Unmarshal([]byte(tc.in), &got)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Unmarshal(%s) = %v, want an error containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil || len(got.Shape) != len(tc.shape) || got.Check() != nil {
				t.Fatalf("Unmarshal(%s) = %+v, %v; want shape %v", tc.in, got, err, tc.shape)
			}
		})
	}
	if _, err := json.Marshal(Tensor{Shape: []int{3}, Data: []float32{1}}); err == nil {
		t.Error("Marshal of a tensor whose data does not match its shape succeeded")
	}
}
