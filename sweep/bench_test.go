package sweep

import (
	"sync"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

var smallModel = sync.OnceValues(func() (*gpt2.Model, error) {
	return gpt2.Random(gpt2.DefaultConfig(), 1, gpt2.Options{})
})

// BenchmarkTrace is the causal-tracing sweep of the performance issue on a
// GPT-2-small-sized model: noise on 3 subject tokens of a 16-token prompt,
// block_output restored at 12 layers x 16 positions; resumed (the default)
// and plain (every setting through the whole model).
func BenchmarkTrace(b *testing.B) {
	m, err := smallModel()
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int, 16)
	for i := range ids {
		ids[i] = 100 + 37*i
	}
	p := lm.Prompt{IDs: ids}
	for _, resume := range []bool{true, false} {
		name := "resume"
		if !resume {
			name = "plain"
		}
		b.Run(name, func(b *testing.B) {
			sw := New(m, Resume(resume))
			cfg := Config{Metric: TokenProb(42)}
			c := Corruption{Positions: []int{1, 2, 3}, Level: 0.3, Seed: 1}
			if _, err := sw.Trace(p, c, cfg); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := sw.Trace(p, c, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHeads patches 12 layers x 12 heads at the last position.
func BenchmarkHeads(b *testing.B) {
	m, err := smallModel()
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int, 16)
	for i := range ids {
		ids[i] = 100 + 37*i
	}
	base, src := lm.Prompt{IDs: ids}, lm.Prompt{IDs: append([]int{7}, ids[1:]...)}
	for _, resume := range []bool{true, false} {
		name := "resume"
		if !resume {
			name = "plain"
		}
		b.Run(name, func(b *testing.B) {
			sw := New(m, Resume(resume))
			cfg := Config{Component: lm.HeadAttentionValueOutput, Unit: pv.HeadPos, Metric: TokenProb(42)}
			if _, err := sw.Patch(base, src, cfg); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := sw.Patch(base, src, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
