package analysis

import (
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/sweep"
)

// TestPathOneCompile: one compiled graph serves every sender, in chunks
// of any size (the last one padded).
func TestPathOneCompile(t *testing.T) {
	m, err := models.Load("../gpt2/testdata/odd", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clean, corrupt := lm.Prompt{IDs: []int{1, 2, 3, 4, 5}}, lm.Prompt{IDs: []int{6, 7, 8, 9, 5}}
	for _, chunk := range []int{1, 5, 32} {
		cfg, err := PathConfig{MLPs: true, ChunkSize: chunk, Receivers: []Receiver{HeadReceiver(2, 1, "q")}, Metric: sweep.LogitDiff(3, 17)}.withDefaults(m.Dims())
		if err != nil {
			t.Fatal(err)
		}
		p := newPathGraph(m, cfg)
		r := lm.NewRunner(m, m.PadID())
		cache, err := r.Run([]lm.Prompt{clean, corrupt}, p.cacheSites()...)
		if err != nil {
			t.Fatal(err)
		}
		var senders []sender
		for l := range 3 {
			for h := -1; h < 3; h++ {
				senders = append(senders, sender{l, h})
			}
		}
		vals, err := p.run(r, clean, cache, senders)
		if err != nil {
			t.Fatal(err)
		}
		if len(vals) != len(senders) || p.builds.Load() != 1 {
			t.Errorf("chunk %d: %d values for %d senders, %d compilations; want one", chunk, len(vals), len(senders), p.builds.Load())
		}
	}
}
