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

// benchPaths times sweep on a GPT-2-small-sized model and a 16-token
// prompt's ids, resumed (the default) and plain (every setting through the
// whole model), after a first call that compiles.
func benchPaths(b *testing.B, sweep func(sw *Sweeper, ids []int) error) {
	m, err := smallModel()
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int, 16)
	for i := range ids {
		ids[i] = 100 + 37*i
	}
	for _, resume := range []bool{true, false} {
		name := map[bool]string{true: "resume", false: "plain"}[resume]
		b.Run(name, func(b *testing.B) {
			sw := New(m, Resume(resume))
			if err := sweep(sw, ids); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := sweep(sw, ids); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTrace is the causal-tracing sweep of the performance issue on a
// GPT-2-small-sized model: noise on 3 subject tokens of a 16-token prompt,
// block_output restored at 12 layers x 16 positions; resumed (the default)
// and plain (every setting through the whole model).
func BenchmarkTrace(b *testing.B) {
	cfg := Config{Metric: TokenProb(42)}
	c := Corruption{Positions: []int{1, 2, 3}, Level: 0.3, Seed: 1}
	benchPaths(b, func(sw *Sweeper, ids []int) error {
		_, err := sw.Trace(lm.Prompt{IDs: ids}, c, cfg)
		return err
	})
}

// BenchmarkHeads patches 12 layers x 12 heads at the last position.
func BenchmarkHeads(b *testing.B) {
	cfg := Config{Component: lm.HeadAttentionValueOutput, Unit: pv.HeadPos, Metric: TokenProb(42)}
	benchPaths(b, func(sw *Sweeper, ids []int) error {
		_, err := sw.Patch(lm.Prompt{IDs: ids}, lm.Prompt{IDs: append([]int{7}, ids[1:]...)}, cfg)
		return err
	})
}
