package facts

import (
	"testing"

	"github.com/govene/govene"
)

// Layer maps GPT-2 small's layers onto the shipped model's, anchored at the
// block where the city reaches the last token.
func TestLayer(t *testing.T) {
	for _, tc := range []struct{ gpt2Small, want int }{
		{-3, 0}, {0, 0}, {3, 3}, {4, 3}, {5, 4}, {6, MoveLayer}, {7, 5}, {8, 6}, {9, 6}, {10, 7}, {11, 7}, {40, 7},
	} {
		if got := Layer(tc.gpt2Small); got != tc.want {
			t.Errorf("Layer(%d) = %d, want %d", tc.gpt2Small, got, tc.want)
		}
	}
}

// LayerFor keeps 12-layer models' numbers, uses Layer for the shipped
// shape and scales other depths, always within the model's blocks.
func TestLayerFor(t *testing.T) {
	shippedDims := govene.Dims{Layers: Layers, Hidden: Hidden}
	for _, tc := range []struct {
		name    string
		d       govene.Dims
		g, want int
	}{
		{"no layers", govene.Dims{}, 8, 0},
		{"gpt2 small", govene.Dims{Layers: 12, Hidden: 768}, 8, 8},
		{"gpt2 small clamped", govene.Dims{Layers: 12, Hidden: 768}, 40, 11},
		{"shipped", shippedDims, 8, 6},
		{"shipped move", shippedDims, 6, MoveLayer},
		{"8 layers, other width", govene.Dims{Layers: 8, Hidden: 256}, 6, 4},
		{"24 layers", govene.Dims{Layers: 24, Hidden: 1024}, 6, 12},
		{"24 layers clamped", govene.Dims{Layers: 24, Hidden: 1024}, 40, 23},
		{"negative", govene.Dims{Layers: 24, Hidden: 1024}, -5, 0},
	} {
		if got := LayerFor(tc.d, tc.g); got != tc.want {
			t.Errorf("%s: LayerFor(%+v, %d) = %d, want %d", tc.name, tc.d, tc.g, got, tc.want)
		}
	}
}
