package session

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecodeRequest feeds arbitrary bodies, JSON and framed, to the
// request decoder: it must never panic, must fail only with an *Error that
// has a message, and what it accepts must survive a round trip through
// encoding/json and through the framed form unchanged.
func FuzzDecodeRequest(f *testing.F) {
	f8 := []byte{0, 0, 0x80, 0x3f, 0, 0, 0xc0, 0x7f} // 1 and a NaN
	for _, b := range [][]byte{
		frame(`{"model":"m","t":{"shape":[2],"blob":0}}`, f8),
		frame(`{"t":{"shape":[1,2],"blob":0}}`, f8),
		frame(`{"t":{"shape":[],"blob":0}}`, f8[:4]),
		frame(`{"t":{"shape":[3],"blob":0}}`, f8),
		frame(`{"t":{"shape":[2],"blob":1}}`, f8, f8),
		frame(`{"t":{"shape":[0],"blob":0}}`, nil),
		frame(`{}`, f8),
		frame(``),
		[]byte("GVF1\xff\xff\xff\xff\x00\x00\x00\x00"),
		[]byte(`{"t":{"shape":[2],"data":"AACAPwAAwH8="}}`), []byte(`{"t":{"data":[1,2]}}`), []byte(`{"t":{"shape":[2],"blob":0}}`),
	} {
		f.Add(b)
	}
	for _, s := range []string{
		`{"model":"gpt2","layers":[0,11],"scale":1e-3,"inner":{"name":"x"}}`,
		``, `null`, `{}`, `[]`, `"s"`, `{"model":1}`, `{"layers":[1.5]}`, `{"x":1}`,
		`{"model":"a"}{}`, `{"model":"\u00e9\ud83d\ude00"}`, `{"inner":null}`, `{"scale":1e400}`,
		`{"model":"a","model":"b"}`, "\xff\xfe", `{"layers":[` + "1," + `2]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v testRequest
		err := DecodeRequest(data, &v, 1<<16)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("DecodeRequest(%q) = %v (%T), want an *Error with a message", data, err, err)
			}
			return
		}
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode %+v: %v", data, v, err)
		}
		framed, _, err := Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode %+v framed: %v", data, v, err)
		}
		for _, enc := range [][]byte{js, framed} {
			var w testRequest
			if err := DecodeRequest(enc, &w, 1<<20); err != nil {
				t.Fatalf("accepted %q, re-encoded as %q, then refused: %v", data, enc, err)
			}
			if !sameRequest(v, w) {
				t.Fatalf("round trip of %q through %q changed %+v into %+v", data, enc, v, w)
			}
		}
	})
}

// sameRequest compares two requests, their tensors' values bit for bit
// (a NaN equals itself).
func sameRequest(a, b testRequest) bool {
	if (a.T == nil) != (b.T == nil) || a.T != nil && !sameTensor(*a.T, *b.T) {
		return false
	}
	a.T, b.T = nil, nil
	// omitempty drops an empty list: [] and null mean the same request.
	if len(a.Layers) == 0 && len(b.Layers) == 0 {
		a.Layers, b.Layers = nil, nil
	}
	return reflect.DeepEqual(a, b)
}
