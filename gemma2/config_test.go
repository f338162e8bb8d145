package gemma2

import (
	"strings"
	"testing"
)

func TestParseConfigErrors(t *testing.T) {
	cases := []struct{ name, json, want string }{
		{"wrong family", `{"model_type":"gemma"}`, `model_type "gemma"; valid: "gemma2"`},
		{"zero scalar", `{"query_pre_attn_scalar":0}`, "query_pre_attn_scalar = 0"},
		{"negative cap", `{"attn_logit_softcapping":-1}`, "attn_logit_softcapping = -1"},
		{"zero window", `{"sliding_window":0}`, "sliding_window = 0"},
		{"odd head dim for rope", `{"head_dim":7}`, "rotary dims 7"},
		{"bad activation", `{"hidden_activation":"tanh"}`, `activation "tanh"`},
		{"kv heads", `{"num_attention_heads":8,"num_key_value_heads":3}`, "num_key_value_heads = 3"},
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

func TestParseConfigForms(t *testing.T) {
	c, err := ParseConfig([]byte(`{"model_type":"gemma2","num_hidden_layers":4,"final_logit_softcapping":null,"layer_types":["full_attention","sliding_attention","full_attention","sliding_attention"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if capOf(c.FinalLogitSoftcapping) != 0 || capOf(c.AttnLogitSoftcapping) != 50 {
		t.Errorf("caps %v %v, want none and 50", c.FinalLogitSoftcapping, *c.AttnLogitSoftcapping)
	}
	if got := []int{c.Window(0), c.Window(1), c.Window(2), c.Window(3)}; got[0] != 0 || got[1] != 4096 || got[2] != 0 || got[3] != 4096 {
		t.Errorf("windows %v, want [0 4096 0 4096] from layer_types", got)
	}
	d, err := ParseConfig([]byte(`{"model_type":"gemma2","num_hidden_layers":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{d.Window(0), d.Window(1), d.Window(2)}; got[0] != 4096 || got[1] != 0 || got[2] != 4096 {
		t.Errorf("default windows %v, want sliding on even layers", got)
	}
}
