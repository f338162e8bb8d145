package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// engineRequests holds one of each engine method's request, so that one
// fuzz target reaches every decoding path they add (govene's types with
// their own decoders, F64, Float32s, raw pyvene locations, tensors).
type engineRequests struct {
	Model    *ModelRequest       `json:"model,omitempty"`
	Encode   *EncodeRequest      `json:"encode,omitempty"`
	Tokens   *TokensRequest      `json:"tokens,omitempty"`
	Run      *RunRequest         `json:"run,omitempty"`
	Site     *CacheSiteRequest   `json:"site,omitempty"`
	New      *NewRequest         `json:"new,omitempty"`
	Patch    *PatchRequest       `json:"patch,omitempty"`
	Trace    *TraceRequest       `json:"trace,omitempty"`
	Causal   *CausalTraceRequest `json:"causal,omitempty"`
	Forward  *ForwardRequest     `json:"forward,omitempty"`
	Generate *GenerateRequest    `json:"generate,omitempty"`
	Train    *TrainRequest       `json:"train,omitempty"`
	IIA      *IIARequest         `json:"iia,omitempty"`
	Save     *SaveRequest        `json:"save,omitempty"`
	Event    *Event              `json:"event,omitempty"`
	Sweep    *SweepData          `json:"sweep,omitempty"`
	Report   *TrainReportData    `json:"report,omitempty"`
	Out      *Tensor             `json:"out,omitempty"`
}

// FuzzDecodeEngineRequest feeds arbitrary bodies to the decoder of the
// engine methods' requests: it must never panic, must fail only with an
// *Error that has a message, and what it accepts must encode (JSON and
// framed) and decode again to the same JSON.
func FuzzDecodeEngineRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":{"name":"gpt2"}}`,
		`{"encode":{"model":"m","text":"Paris"}}`,
		`{"tokens":{"model":"m","ids":[1,2,-3]}}`,
		`{"run":{"model":"m","prompts":[{"ids":[1,2],"tokens":["a","b"]}],"sites":[{"Layer":1,"Component":"block_output"}]}}`,
		`{"new":{"model":"m","config":{"representations":[{"layer":1,"component":"mlp_output","intervention_type":"VanillaIntervention","source_representation":[1,2]}],"mode":"serial"}}}`,
		`{"forward":{"iv":"iv-1","base":[{"ids":[3]}],"call":{"sources":[[{"ids":[4]}]],"source_cache_ids":["cache-1"],"locations":{"source":[[[0]]],"base":[[[1]]]},"pyvene_locations":[[[1]],[[2]]],"noise_seed":7,"source_representations":{"k":[[1.5]]}}}}`,
		`{"generate":{"iv":"iv-1","prompts":[],"options":{"max_new_tokens":3,"temperature":0.7,"steps":[]}}}`,
		`{"train":{"iv":"iv-1","data":[{"base":{"ids":[1]},"sources":[{"ids":[2]}],"label":3}],"config":{"adam":{"lr":0.01},"steps":5}}}`,
		`{"patch":{"model":"m","base":{"ids":[1]},"source":{"ids":[2]},"config":{"component":"block_output","unit":"pos","metric":{"kind":"token_prob","tokens":[1]}}}}`,
		`{"event":{"kind":"step","step":2,"loss":"NaN","eval_iia":0.5}}`,
		`{"sweep":{"rows":["0"],"cols":["a"],"values":[["+Inf",1e-300,"NaN"]],"base":"-Inf","source":2}}`,
		`{"report":{"steps":1,"losses":["NaN"],"eval_iia":[0.25],"best_iia":"-Inf","duration":1500}}`,
		`{"event":{"loss":"nan"}}`, `{"forward":{"call":{"pyvene_locations":}}}`, `{"new":{"config":{"representations":[{"intervention_type":3}]}}}`,
		`{"out":{"shape":[2],"data":"AACAPwAAwH8="}}`, `{"site":{"cache":"c","site":{"Layer":-1,"Component":"embed"}}}`,
	} {
		f.Add([]byte(s))
	}
	f8 := []byte{0, 0, 0x80, 0x3f, 0, 0, 0xc0, 0x7f}
	f.Add(frame(`{"out":{"shape":[2],"blob":0}}`, f8))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v engineRequests
		if err := DecodeRequest(data, &v, 1<<16); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("DecodeRequest(%q) = %v (%T), want an *Error with a message", data, err, err)
			}
			return
		}
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", data, err)
		}
		framed, _, err := Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it framed: %v", data, err)
		}
		for _, enc := range [][]byte{js, framed} {
			var w engineRequests
			if err := DecodeRequest(enc, &w, 1<<20); err != nil {
				t.Fatalf("accepted %q, re-encoded as %q, then refused: %v", data, enc, err)
			}
			again, err := json.Marshal(w)
			if err != nil || !bytes.Equal(again, js) {
				t.Fatalf("round trip of %q through %q: %s, want %s (%v)", data, enc, again, js, err)
			}
		}
	})
}
