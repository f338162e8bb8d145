package session

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// tensorResult holds tensors everywhere the walks look.
type tensorResult struct {
	Logits  Tensor            `json:"logits"`
	Ptr     *Tensor           `json:"ptr,omitempty"`
	List    []Tensor          `json:"list,omitempty"`
	ByName  map[string]Tensor `json:"by_name,omitempty"`
	Any     any               `json:"any,omitempty"`
	Skipped Tensor            `json:"-"`
	Note    string            `json:"note"`
}

func TestMarshalFramed(t *testing.T) {
	a := Tensor{Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, float32(math.NaN())}}
	b := Tensor{Shape: []int{}, Data: []float32{7}}
	c := Tensor{Data: []float32{-1, 0.5}} // a nil Shape is a vector
	in := tensorResult{Logits: a, Ptr: &b, List: []Tensor{c, b}, ByName: map[string]Tensor{"x": a}, Any: c, Skipped: a, Note: "n"}
	body, ctype, err := Marshal(in)
	if err != nil || ctype != FramedType || !strings.HasPrefix(string(body), frameMagic) {
		t.Fatalf("Marshal = %.20q, %s, %v; want a framed body", body, ctype, err)
	}
	if n := binary.LittleEndian.Uint32(body[8:]); n != 6 {
		t.Errorf("Marshal wrote %d blobs, want 6 (Skipped is not encoded)", n)
	}
	if wire(&in.Logits).Ref != 0 || wire(in.Ptr).Ref != 0 || wire(&in.List[0]).Ref != 0 {
		t.Errorf("Marshal changed the caller's tensors: %+v", in)
	}
	for _, strict := range []bool{false, true} {
		var out tensorResult
		if strict { // an interface field cannot take a Tensor: its blob is left over
			in.Any = nil
			if body, _, err = Marshal(in); err != nil {
				t.Fatal(err)
			}
			out.Any = map[string]any{"blob": 0}
		}
		if strict {
			err = DecodeRequest(body, &out, 0)
		} else {
			err = Unmarshal(body, &out)
		}
		if err != nil {
			t.Fatalf("decoding (strict %v): %v", strict, err)
		}
		wantC := Tensor{Shape: []int{2}, Data: c.Data}
		checks := []struct {
			name      string
			got, want Tensor
		}{
			{"logits", out.Logits, a}, {"ptr", *out.Ptr, b}, {"list[0]", out.List[0], wantC},
			{"list[1]", out.List[1], b}, {"by_name", out.ByName["x"], a},
		}
		for _, ch := range checks {
			if !sameTensor(ch.got, ch.want) {
				t.Errorf("strict %v: %s = %+v, want %+v", strict, ch.name, ch.got, ch.want)
			}
		}
		// An interface decodes as encoding/json decodes it: a map.
		if m, ok := out.Any.(map[string]any); !ok || m["blob"] == nil {
			t.Errorf("strict %v: any = %#v, want the JSON object with its blob reference", strict, out.Any)
		}
		if out.Note != "n" || out.Skipped.Data != nil {
			t.Errorf("strict %v: note %q, skipped %+v", strict, out.Note, out.Skipped)
		}
	}
	// Without tensors: plain JSON.
	body, ctype, err = Marshal(map[string]int{"a": 1})
	if err != nil || ctype != JSONType || string(body) != `{"a":1}` {
		t.Errorf("Marshal without tensors = %s, %s, %v", body, ctype, err)
	}
	// Inline, by plain encoding/json, and back.
	var back Tensor
	js, err := a.MarshalJSON()
	if err != nil || !strings.HasPrefix(string(js), `{"shape":[2,3],"data":"`) {
		t.Fatalf("MarshalJSON = %s, %v", js, err)
	}
	if err := DecodeRequest(js, &back, 0); err != nil || !sameTensor(back, a) {
		t.Errorf("inline round trip = %+v, %v", back, err)
	}
	if _, _, err := Marshal(Tensor{Shape: []int{2}, Data: []float32{1}}); err == nil || !strings.Contains(err.Error(), "shape [2] holds 2 values but Data has 1") {
		t.Errorf("Marshal of a bad tensor: %v", err)
	}
}

// sameTensor compares shapes and the values' bits (NaN included).
func sameTensor(a, b Tensor) bool {
	if !reflect.DeepEqual(shapeOf(a), shapeOf(b)) || len(a.Data) != len(b.Data) {
		return false
	}
	for i := range a.Data {
		if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
			return false
		}
	}
	return true
}

// shapeOf returns t's shape, [len(Data)] for a nil Shape.
func shapeOf(t Tensor) []int {
	if t.Shape == nil {
		return []int{len(t.Data)}
	}
	return t.Shape
}

// frame builds a framed body by hand.
func frame(js string, blobs ...[]byte) []byte {
	b := []byte(frameMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(js)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(blobs)))
	for _, x := range blobs {
		b = binary.LittleEndian.AppendUint64(b, uint64(len(x)))
	}
	b = append(b, js...)
	for _, x := range blobs {
		b = append(b, x...)
	}
	return b
}

func TestDecodeFramed(t *testing.T) {
	f8 := make([]byte, 8) // two float32 zeros
	type req struct {
		T Tensor  `json:"t"`
		U *Tensor `json:"u,omitempty"`
	}
	huge := frame(`{}`)
	binary.LittleEndian.PutUint32(huge[8:], 1<<30) // claims 2^30 blobs
	tests := []struct {
		name string
		body []byte
		err  string // "" for success
	}{
		{name: "ok", body: frame(`{"t":{"shape":[2],"blob":0}}`, f8)},
		{name: "short header", body: []byte("GVF1\x01\x00"), err: "shorter than its 12-byte header"},
		{name: "too many blobs", body: huge, err: "blobs do not fit in"},
		{name: "json too long", body: frame(`{}`)[:12], err: "does not fit in the 0 bytes left"},
		{name: "blob not float32s", body: frame(`{"t":{"shape":[2],"blob":0}}`, f8[:7]), err: "is not whole float32s"},
		{name: "trailing bytes", body: append(frame(`{"t":{"shape":[2],"blob":0}}`, f8), 0), err: "1 bytes after the last blob"},
		{name: "shape mismatch", body: frame(`{"t":{"shape":[3],"blob":0}}`, f8), err: "a tensor of shape [3] needs 12 bytes, its blob 0 has 8"},
		{name: "missing blob", body: frame(`{"t":{"shape":[2],"blob":1}}`, f8), err: "refers to blob 1, but the body has 1 blobs"},
		{name: "blob twice", body: frame(`{"t":{"shape":[2],"blob":0},"u":{"shape":[2],"blob":0}}`, f8), err: "blob 0 is the blob of two tensors"},
		{name: "unused blob", body: frame(`{"t":{"shape":[2],"blob":0}}`, f8, f8), err: "blob 1 is not the blob of any tensor"},
		{name: "blob in plain JSON", body: []byte(`{"t":{"shape":[2],"blob":0}}`), err: "refers to blob 0, but the body has 0 blobs"},
		{name: "data and blob", body: frame(`{"t":{"shape":[2],"blob":0,"data":[1,2]}}`, f8), err: "give data or blob, not both"},
		{name: "negative dim", body: []byte(`{"t":{"shape":[-1],"data":[]}}`), err: "dimension 0 is -1"},
		{name: "inline mismatch", body: []byte(`{"t":{"shape":[2,2],"data":[1,2,3]}}`), err: "shape [2 2] holds 4 values but Data has 3"},
		{name: "blob without shape", body: frame(`{"t":{"blob":0}}`, f8), err: "blob 0 needs a shape"},
		{name: "overflowing shape", body: frame(`{"t":{"shape":[4294967296,4294967296],"blob":0}}`, f8), err: "holds more than"},
		{name: "unknown tensor field", body: []byte(`{"t":{"shape":[1],"data":[1],"dtype":"f16"}}`), err: `unknown field "dtype"`},
		{name: "blobs without JSON", body: frame(``, f8), err: "a framed body with 1 blobs and no JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r req
			err := DecodeRequest(tc.body, &r, 0)
			if tc.err == "" {
				if err != nil || len(r.T.Data) != 2 {
					t.Fatalf("DecodeRequest = %+v, %v", r, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(e.Message, tc.err) {
				t.Fatalf("DecodeRequest = %v (%T), want an *Error containing %q", err, err, tc.err)
			}
		})
	}
	// The size limit comes before anything else.
	if err := DecodeRequest(frame(`{"t":{"shape":[2],"blob":0}}`, f8), &req{}, 20); err == nil || !strings.Contains(err.Error(), "over the limit of 20 bytes") {
		t.Errorf("over the limit: %v", err)
	}
}
