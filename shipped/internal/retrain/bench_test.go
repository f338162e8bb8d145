package retrain

import "testing"

// BenchmarkTrainStep times training steps of the shipped recipe (on a small
// corpus; the first, compiling step is included once).
func BenchmarkTrainStep(b *testing.B) {
	cfg := DefaultTrainConfig()
	cfg.Steps = b.N + 1
	cfg.CorpusSize = 2000
	b.ResetTimer()
	if _, err := Train(cfg); err != nil {
		b.Fatal(err)
	}
}
