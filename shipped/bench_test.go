package shipped

import "testing"

func BenchmarkTrainStep(b *testing.B) {
	cfg := DefaultTrainConfig()
	cfg.Steps = b.N + 1
	cfg.CorpusSize = 2000
	b.ResetTimer()
	if _, err := Train(cfg); err != nil {
		b.Fatal(err)
	}
}
