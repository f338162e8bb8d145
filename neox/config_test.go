package neox

import (
	"strings"
	"testing"
)

func TestParseConfigErrors(t *testing.T) {
	cases := []struct{ name, json, want string }{
		{"wrong family", `{"model_type":"gpt2"}`, `model_type "gpt2"; valid: "gpt_neox"`},
		{"partial factor", `{"rope_parameters":{"partial_rotary_factor":1.5,"rope_theta":10000}}`, "partial_rotary_factor 1.5; valid: (0, 1]"},
		{"width not a multiple", `{"hidden_size":100,"num_attention_heads":3}`, "not a multiple"},
		{"bad eps", `{"layer_norm_eps":2}`, "layer_norm_eps = 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestParseConfigForms checks transformers 4's rotary_pct/rotary_emb_base
// and transformers 5's rope_parameters.
func TestParseConfigForms(t *testing.T) {
	cases := []struct {
		name, json     string
		theta, partial float64
	}{
		{"transformers 4", `{"model_type":"gpt_neox","rotary_pct":0.5,"rotary_emb_base":20000}`, 20000, 0.5},
		{"transformers 5", `{"model_type":"gpt_neox","rope_parameters":{"partial_rotary_factor":1.0,"rope_theta":30000,"rope_type":"default"}}`, 30000, 1},
		{"defaults (Pythia)", `{"model_type":"gpt_neox"}`, 10000, 0.25},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(c.json))
			if err != nil {
				t.Fatal(err)
			}
			r, _ := cfg.Rope()
			if r.Theta != c.theta || r.Partial != c.partial {
				t.Errorf("theta %g partial %g, want %g %g", r.Theta, r.Partial, c.theta, c.partial)
			}
		})
	}
}
