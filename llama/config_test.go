package llama

import (
	"strings"
	"testing"
)

// TestParseConfigErrors checks that each bad field gives an error naming
// the field, the value and the valid range.
func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"not an object", `[1]`, "want a JSON object"},
		{"wrong type", `{"model_type":"llama","hidden_size":"big"}`, "hidden_size"},
		{"unknown family", `{"model_type":"falcon"}`, `model_type "falcon"`},
		{"zero layers", `{"model_type":"llama","num_hidden_layers":0}`, "num_hidden_layers = 0; valid: [1, 1024]"},
		{"kv heads not a divisor", `{"model_type":"llama","num_attention_heads":6,"num_key_value_heads":4,"hidden_size":48}`, "num_key_value_heads = 4; valid: a divisor"},
		{"width not a multiple", `{"model_type":"llama","num_attention_heads":5,"hidden_size":48}`, "not a multiple of num_attention_heads"},
		{"huge vocab", `{"model_type":"llama","vocab_size":100000000}`, "vocab_size = 100000000"},
		{"bad eps", `{"model_type":"llama","rms_norm_eps":0}`, "rms_norm_eps = 0"},
		{"bad rope type", `{"model_type":"llama","rope_parameters":{"rope_type":"yarn","rope_theta":10000}}`, `rope_type "yarn" is not supported; valid: [default linear llama3]`},
		{"bad theta", `{"model_type":"llama","rope_theta":0.5}`, "rope theta 0.5"},
		{"bad activation", `{"model_type":"llama","hidden_act":"mish"}`, `activation "mish" is not supported`},
		{"bad layer type", `{"model_type":"qwen2","num_hidden_layers":2,"layer_types":["sliding_attention","local"]}`, `layer_types[1] = "local"`},
		{"layer types count", `{"model_type":"qwen2","num_hidden_layers":3,"layer_types":["full_attention"]}`, "layer_types has 1 entries"},
		{"too many weights", `{"model_type":"llama","hidden_size":65536,"intermediate_size":262144,"num_hidden_layers":1024,"num_attention_heads":64}`, "weights; valid: at most"},
		{"bad token id", `{"model_type":"llama","eos_token_id":"x"}`, "eos_token_id"},
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

// TestParseConfigForms checks the spellings transformers 4 and 5 use.
func TestParseConfigForms(t *testing.T) {
	cases := []struct {
		name, json      string
		theta, factor   float64
		ropeType        string
		eos, window0    int
		windowLast, kvH int
	}{
		{"transformers 5 llama3", `{"model_type":"llama","num_key_value_heads":8,"eos_token_id":[128001,128009],"rope_parameters":{"rope_type":"llama3","rope_theta":500000,"factor":32,"low_freq_factor":1,"high_freq_factor":4,"original_max_position_embeddings":8192}}`,
			500000, 32, "llama3", 128001, 0, 0, 8},
		{"transformers 4 linear", `{"model_type":"llama","rope_theta":20000,"rope_scaling":{"type":"linear","factor":2}}`,
			20000, 2, "linear", 2, 0, 0, 32},
		{"mistral window", `{"model_type":"mistral","sliding_window":4096}`, 10000, 0, "", 2, 4096, 4096, 8},
		{"mistral no window", `{"model_type":"mistral","sliding_window":null}`, 10000, 0, "", 2, 0, 0, 8},
		{"qwen2 window from max_window_layers", `{"model_type":"qwen2","use_sliding_window":true,"sliding_window":64,"max_window_layers":31,"eos_token_id":null}`,
			10000, 0, "", -1, 0, 64, 32},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(c.json))
			if err != nil {
				t.Fatal(err)
			}
			r, err := cfg.Rope()
			if err != nil {
				t.Fatal(err)
			}
			if r.Theta != c.theta || r.Scaling.Factor != c.factor || r.Scaling.Type != c.ropeType {
				t.Errorf("rope %+v, want theta %g factor %g type %q", r, c.theta, c.factor, c.ropeType)
			}
			if int(cfg.EOSTokenID) != c.eos {
				t.Errorf("eos %d, want %d", cfg.EOSTokenID, c.eos)
			}
			if w0, wl := cfg.Window(0), cfg.Window(cfg.NumHiddenLayers-1); w0 != c.window0 || wl != c.windowLast {
				t.Errorf("windows %d..%d, want %d..%d", w0, wl, c.window0, c.windowLast)
			}
			if cfg.KVHeads() != c.kvH {
				t.Errorf("kv heads %d, want %d", cfg.KVHeads(), c.kvH)
			}
		})
	}
}
