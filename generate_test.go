package govene

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A Generation's per-pass values survive JSON, and are left out when empty.
func TestGenerationJSON(t *testing.T) {
	pass := func(v float32, s int) Tensor {
		t := Tensor{Shape: []int{1, s, 2}, Data: make([]float32, 2*s)}
		for i := range t.Data {
			t.Data[i] = v + float32(i)
		}
		return t
	}
	for _, tt := range []struct {
		name string
		g    Generation
		keys []string
	}{
		{"tokens only", Generation{Tokens: [][]int{{1, 2}}, NewTokens: [][]int{{2}}}, []string{"tokens", "new_tokens"}},
		{"with values", Generation{Tokens: [][]int{{1, 2, 3}}, NewTokens: [][]int{{2, 3}}, Lengths: []int{3},
			Collected: map[string][]Tensor{"k": {pass(1, 3), pass(2, 1)}},
			Sites:     map[string][]Tensor{"blocks.0.block_output": {pass(3, 3), pass(4, 1)}}},
			[]string{"tokens", "new_tokens", "lengths", "collected", "sites"}},
	} {
		data, err := json.Marshal(tt.g)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(data, &fields); err != nil || len(fields) != len(tt.keys) {
			t.Errorf("%s: JSON %s has %d fields, want %v", tt.name, data, len(fields), tt.keys)
		}
		for _, k := range tt.keys {
			if _, ok := fields[k]; !ok {
				t.Errorf("%s: JSON %s has no %q", tt.name, data, k)
			}
		}
		var back Generation
		if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, tt.g) {
			t.Errorf("%s: round trip %+v (%v), want %+v", tt.name, back, err, tt.g)
		}
	}
}
