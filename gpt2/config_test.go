package gpt2

import (
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

// FuzzParseConfig checks that no config.json makes ParseConfig panic, and
// that whatever it accepts is valid.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"n_layer":2,"n_head":2,"n_embd":16,"vocab_size":50257}`,
		`{"n_inner":null,"activation_function":"gelu"}`, `[]`, `null`, `{"n_embd":1e309}`,
		`{"n_head":-1}`, `{"scale_attn_weights":false}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("accepted an invalid config: %v", verr)
			}
		}
	})
}
