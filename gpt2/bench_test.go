package gpt2

import (
	"fmt"
	"sync"
	"testing"

	"github.com/govene/govene/internal/testx"
	"github.com/govene/govene/lm"
)

var benchModel = sync.OnceValues(func() (*Model, error) {
	return Random(DefaultConfig(), 1, Options{})
})

func benchPrompts(b, s int) []lm.Prompt {
	ps := make([]lm.Prompt, b)
	for i := range ps {
		ids := make([]int, s)
		for j := range ids {
			ids[j] = (i*131 + j*17 + 5) % 50257
		}
		ps[i] = lm.Prompt{IDs: ids}
	}
	return ps
}

// BenchmarkForward measures the forward pass of a GPT-2-small-sized model
// with random weights at batch 1 x 16 tokens and 8 x 64 tokens, after
// compilation. It reports tokens/s.
func BenchmarkForward(b *testing.B) {
	m, err := benchModel()
	if err != nil {
		b.Fatal(err)
	}
	for _, bs := range [][2]int{{1, 16}, {8, 64}} {
		b.Run(fmt.Sprintf("b%dx%d", bs[0], bs[1]), func(b *testing.B) {
			ps := benchPrompts(bs[0], bs[1])
			if _, err := m.Run(ps); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := m.Run(ps); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(bs[0]*bs[1]*b.N)/b.Elapsed().Seconds(), "tokens/s")
			if peak, ok := testx.PeakRSS(); ok {
				b.ReportMetric(float64(peak)/1e6, "peakRSS-MB")
			}
		})
	}
}
