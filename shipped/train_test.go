package shipped

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
)

// The local-attention defaults: zero means half the layers, a negative
// value none; the window and weight default to 1.
func TestLocalDefaults(t *testing.T) {
	for _, tc := range []struct {
		name               string
		layers, local      int
		wantLocal, wantWin int
		weight, wantWeight float64
		window             int
	}{
		{name: "zero is half", layers: 8, local: 0, wantLocal: 4, wantWin: 1, wantWeight: 1},
		{name: "odd layers", layers: 6, local: 0, wantLocal: 3, wantWin: 1, wantWeight: 1},
		{name: "negative is off", layers: 8, local: -1, wantLocal: 0, wantWin: 1, wantWeight: 1},
		{name: "explicit", layers: 8, local: 2, window: 3, weight: 0.5, wantLocal: 2, wantWin: 3, wantWeight: 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := TrainConfig{Model: DefaultModel(), LocalLayers: tc.local, LocalWindow: tc.window, LocalWeight: tc.weight}
			cfg.Model.NLayer = tc.layers
			got := cfg.withDefaults()
			if got.LocalLayers != tc.wantLocal || got.LocalWindow != tc.wantWin || got.LocalWeight != tc.wantWeight {
				t.Errorf("local layers %d, window %d, weight %g; want %d, %d, %g",
					got.LocalLayers, got.LocalWindow, got.LocalWeight, tc.wantLocal, tc.wantWin, tc.wantWeight)
			}
		})
	}
}

// farAttention averages, over heads and real query tokens, the attention
// probability on keys more than window positions back; attentionDistance
// the attended distance in sequence lengths.
func TestFarAttentionAndDistance(t *testing.T) {
	b, err := backend.Default()
	if err != nil {
		t.Fatal(err)
	}
	// One row, one head, 3 positions; the first position is padding.
	weights := []float32{
		1, 0, 0, // padding query: ignored
		0, 1, 0, // query 1 attends to itself
		0.5, 0.25, 0.25, // query 2: 0.5 on key 0 (two back), 0.25 one back, 0.25 itself
	}
	mask := []float32{0, 1, 1}
	exec, err := NewExec(b, func(w, m *Node) (*Node, *Node, *Node) {
		return farAttention(w, m, 1), farAttention(w, m, 0), attentionDistance(w, m)
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(weights, 1, 1, 3, 3), tensors.FromFlatDataAndDimensions(mask, 1, 3))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{
		0.5 / 2,                  // window 1: only query 2's 0.5 on key 0, over 2 real queries
		(0.5 + 0.25) / 2,         // window 0: everything but the query itself
		(0.5*2 + 0.25*1) / 3 / 2, // distances 2 and 1, in sequence lengths (3)
	} {
		got := float64(tensors.MustCopyFlatData[float32](outs[i])[0])
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("output %d = %g, want %g", i, got, want)
		}
	}
}

// Layer maps GPT-2 small's layers onto the shipped model's, anchored at the
// block where the city reaches the last token.
func TestLayer(t *testing.T) {
	for _, tc := range []struct{ gpt2Small, want int }{
		{-3, 0}, {0, 0}, {3, 3}, {5, 5}, {6, MoveLayer}, {8, 6}, {9, 7}, {10, 7}, {11, 7}, {40, 7},
	} {
		if got := Layer(tc.gpt2Small); got != tc.want {
			t.Errorf("Layer(%d) = %d, want %d", tc.gpt2Small, got, tc.want)
		}
	}
}
