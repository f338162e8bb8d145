package gpt2

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name, json string
		wantErr    []string // substrings; empty means valid
		check      func(Config) bool
	}{
		{"gpt2 small defaults", `{"model_type":"gpt2"}`, nil,
			func(c Config) bool { return c.NLayer == 12 && c.Inner() == 3072 && c.ActivationFunction == "gelu_new" }},
		{"n_inner set", `{"n_layer":3,"n_head":3,"n_embd":24,"n_inner":40,"vocab_size":1000,"n_positions":32}`, nil,
			func(c Config) bool { return c.Inner() == 40 && c.HeadDim() == 8 }},
		{"n_inner null", `{"n_embd":16,"n_head":2,"n_inner":null}`, nil,
			func(c Config) bool { return c.Inner() == 64 }},
		{"not json", `{"n_layer":`, []string{"parse config"}, nil},
		{"wrong type", `{"n_layer":"twelve"}`, []string{"parse config"}, nil},
		{"indivisible", `{"n_embd":10,"n_head":3}`, []string{"n_embd: 10 must be divisible by n_head=3"}, nil},
		{"zero layers and heads", `{"n_layer":0,"n_head":0}`, []string{"n_layer: 0", "n_head: 0"}, nil},
		{"bad activation", `{"activation_function":"tanh"}`, []string{"activation_function", "gelu_new"}, nil},
		{"bad epsilon", `{"layer_norm_epsilon":0}`, []string{"layer_norm_epsilon"}, nil},
		{"other family", `{"model_type":"llama"}`, []string{"model_type", "\"gpt2\""}, nil},
		{"negative vocab", `{"vocab_size":-5}`, []string{"vocab_size: -5"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.json))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if !tt.check(c) {
					t.Errorf("unexpected config %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("want error containing %q, got none", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// FuzzParseConfig checks that no config.json makes ParseConfig panic, hang
// or accept an invalid configuration: whatever it accepts passes Validate,
// keeps every size within its limit, implies at most MaxParams weights
// (NumParams agrees with the shapes it allocates), and survives a JSON round
// trip unchanged. Rejections are errors starting "gpt2:". The seeds are
// below and in testdata/fuzz/FuzzParseConfig.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"n_layer":2,"n_head":2,"n_embd":16,"vocab_size":50257}`,
		`{"n_inner":null,"activation_function":"gelu"}`, `[]`, `null`, `{"n_embd":1e309}`,
		`{"n_head":-1}`, `{"scale_attn_weights":false}`,
		`{"n_positions":1099511627776}`, `{"vocab_size":1099511627776}`, `{"n_inner":1099511627776}`,
		`{"n_layer":1024,"n_head":1024,"n_embd":65536}`, `{"n_layer":48,"n_head":25,"n_embd":1600}`,
		`{"layer_norm_epsilon":-1}`, `{"layer_norm_epsilon":NaN}`, `{"n_embd":768.0}`,
		`{"n_layer":9223372036854775807}`, `{"n_layer":-9223372036854775808}`,
		"{\"model_type\":\"gpt2\xff\"}", `{"a":[[[[[[[[[[]]]]]]]]]]}`, ``, ` `, `{"n_embd":8,"n_head":3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "gpt2: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if verr := c.Validate(); verr != nil {
			t.Fatalf("accepted an invalid config: %v", verr)
		}
		for _, d := range []struct {
			name   string
			v, max int
		}{{"n_layer", c.NLayer, MaxNLayer}, {"n_head", c.NHead, MaxNHead}, {"n_embd", c.NEmbd, MaxNEmbd},
			{"n_positions", c.NPositions, MaxNPositions}, {"vocab_size", c.VocabSize, MaxVocabSize}, {"inner", c.Inner(), MaxNInner}} {
			if d.v < 1 || d.v > d.max {
				t.Fatalf("accepted %s=%d outside [1, %d]", d.name, d.v, d.max)
			}
		}
		if c.HeadDim()*c.NHead != c.NEmbd {
			t.Fatalf("accepted n_embd=%d, n_head=%d", c.NEmbd, c.NHead)
		}
		n := c.NumParams()
		if n < 1 || n > MaxParams {
			t.Fatalf("accepted a config of %d weights", n)
		}
		// Only check the shapes' total for configs small enough to list quickly.
		if c.NLayer <= 64 {
			total := 0
			for _, s := range c.paramSpecs() {
				size := 1
				for _, d := range s.shape {
					size *= d
				}
				total += size
			}
			if total != n {
				t.Fatalf("NumParams %d, shapes hold %d", n, total)
			}
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseConfig(again)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", again, err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed %+v into %+v", c, c2)
		}
	})
}
