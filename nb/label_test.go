package nb

import (
	"fmt"
	"testing"

	"github.com/govene/govene"
)

// vocab is a model's Dims and Tokens over a fixed vocabulary; calls counts
// its Tokens calls.
type vocab []string

var calls int

func (v vocab) Dims() govene.Dims { return govene.Dims{Vocab: len(v)} }

func (v vocab) Tokens(ids []int) ([]string, error) {
	calls++
	var out []string
	for _, id := range ids {
		if id < 0 || id >= len(v) {
			return nil, fmt.Errorf("token id %d out of range [0, %d)", id, len(v))
		}
		out = append(out, v[id])
	}
	return out, nil
}

// Label names ids in the vocabulary and falls back to "[id]" otherwise.
func TestLabel(t *testing.T) {
	calls = 0
	label := Label(vocab{"!", " Paris", " Rome"})
	for _, tc := range []struct {
		id   int
		want string
	}{
		{0, "!"}, {1, " Paris"}, {2, " Rome"}, {3, "[3]"}, {-1, "[-1]"},
	} {
		if got := label(tc.id); got != tc.want {
			t.Errorf("Label(%d) = %q, want %q", tc.id, got, tc.want)
		}
	}
	if calls != 1 {
		t.Errorf("Label asked the model %d times, want once (the whole vocabulary)", calls)
	}
}
