package pv

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/train"
)

// The data forms of TrainConfig and GenerateOptions hold every field but
// the callbacks, convert both ways without loss, and keep pv's JSON.
func TestConfigDataRoundTrip(t *testing.T) {
	tc := TrainConfig{Adam: train.Adam{LR: 0.01, Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.1, WarmupSteps: 3, TotalSteps: 9, ClipNorm: 1},
		Epochs: 2, BatchSize: 4, Steps: 5, TemperatureStart: 40, TemperatureEnd: 0.2, BoundaryL1: 0.5,
		TrainModel: true, Patience: 2, EvalEvery: 3, Seed: 7}
	gen := GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 4, Temperature: 0.7, TopK: 3, TopP: 0.9, Seed: 2, StopAtEOS: true},
		InterveneOnPrompt: true, EveryStep: true, Steps: []int{0, 2}}
	for _, tt := range []struct {
		name       string
		orig, back any
		data       any
		callbacks  int
	}{
		{"TrainConfig", tc, TrainConfigFrom(tc.Data()), tc.Data(), 2},
		{"GenerateOptions", gen, GenerateOptionsFrom(gen.Data()), gen.Data(), 1},
	} {
		if !reflect.DeepEqual(tt.orig, tt.back) {
			t.Errorf("%s: round trip %+v, want %+v", tt.name, tt.back, tt.orig)
		}
		if n, m := reflect.TypeOf(tt.orig).NumField(), reflect.TypeOf(tt.data).NumField(); n-tt.callbacks != m {
			t.Errorf("%s has %d fields, its data form %d; want all but the %d callbacks", tt.name, n, m, tt.callbacks)
		}
		a, _ := json.Marshal(tt.orig)
		b, _ := json.Marshal(tt.data)
		if string(a) != string(b) {
			t.Errorf("%s JSON %s, data form's %s", tt.name, a, b)
		}
	}
	g := &Generation{Tokens: [][]int{{1, 2}}, NewTokens: [][]int{{2}}}
	if d := g.Data(); !reflect.DeepEqual(d, &govene.Generation{Tokens: g.Tokens, NewTokens: g.NewTokens}) {
		t.Errorf("Generation.Data() = %+v", d)
	}
}
