package shipped

import "testing"

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
