package session

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecodeRequest feeds arbitrary bodies to the request decoder: it must
// never panic, must fail only with an *Error that has a message, and what
// it accepts must survive a round trip through encoding/json unchanged.
func FuzzDecodeRequest(f *testing.F) {
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
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode %+v: %v", data, v, err)
		}
		var w testRequest
		if err := DecodeRequest(enc, &w, 1<<16); err != nil {
			t.Fatalf("accepted %q, re-encoded as %s, then refused: %v", data, enc, err)
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("round trip of %q changed %+v into %+v", data, v, w)
		}
	})
}
