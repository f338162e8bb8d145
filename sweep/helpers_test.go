package sweep

import (
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/internal/testx"
	"github.com/govene/govene/lm"
)

// tinyModel is the random GPT-2 pv's tests use too: 3 layers, 4 heads,
// width 16, head width 4, inner 64, vocabulary 97, 32 positions.
var tinyModel = sync.OnceValues(func() (*gpt2.Model, error) {
	c := gpt2.DefaultConfig()
	c.NLayer, c.NHead, c.NEmbd, c.VocabSize, c.NPositions = 3, 4, 16, 97, 32
	return gpt2.Random(c, 11, gpt2.Options{})
})

// tiny returns tinyModel, or fails t.
var tiny = testx.Must(tinyModel)

func prompt(ids ...int) lm.Prompt { return lm.Prompt{IDs: ids} }

var nan6 = math.NaN()

// wantErr fails unless err contains every substring of want.
func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", want)
	}
	for _, w := range want {
		if msg := err.Error(); !strings.Contains(msg, w) {
			t.Fatalf("error %q\nwant it to contain %q", msg, w)
		}
	}
}

const goroutines = 6
