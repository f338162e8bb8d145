package session

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestFloat32s(t *testing.T) {
	type msg struct {
		Logits Float32s `json:"logits"`
	}
	vals := Float32s{0, -1.5, 3.25e-8, float32(math.Inf(1)), math.MaxFloat32}
	data, err := json.Marshal(msg{vals})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"logits":"AAAAAAAAwL`; !strings.HasPrefix(string(data), want) {
		t.Errorf("Marshal = %s, want it to start with %s", data, want)
	}
	tests := []struct {
		name, in string
		want     Float32s
		err      string
	}{
		{name: "base64", in: string(data), want: vals},
		{name: "array", in: `{"logits":[1, 2.5, -3]}`, want: Float32s{1, 2.5, -3}},
		{name: "null", in: `{"logits":null}`, want: nil},
		{name: "empty", in: `{"logits":""}`, want: Float32s{}},
		{name: "not base64", in: `{"logits":"@@@@"}`, err: "float32s: not base64"},
		{name: "partial float", in: `{"logits":"AAAA"}`, err: "3 bytes is not a whole number of float32s"},
		{name: "a number", in: `{"logits":3}`, err: "want a base64 string of little-endian float32s or an array of numbers"},
		{name: "array of strings", in: `{"logits":["a"]}`, err: "float32 array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m msg
			err := DecodeRequest([]byte(tc.in), &m, 0)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("decode %s: %v, want an error containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(m.Logits, tc.want) {
				t.Fatalf("decode %s = %v, %v; want %v", tc.in, m.Logits, err, tc.want)
			}
		})
	}
}
