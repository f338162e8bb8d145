package analysis

import (
	"sync"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
)

// benchModel is a GPT-2-small-shaped model with random weights.
var benchModel = sync.OnceValues(func() (*gpt2.Model, error) {
	return gpt2.Random(gpt2.DefaultConfig(), 1, gpt2.Options{})
})

// BenchmarkAttributionPatch times attribution patching over every default
// site of a GPT-2-small-shaped model (12 layers x 12 heads) on a 12-token
// clean/corrupted pair: block_input, attention_output and mlp_output at 12
// layers x 12 positions and head_result at 12 layers x 12 heads x 12
// positions (2160 cells) from one forward and one backward, against exact
// activation patching of the same 2160 cells (package sweep, resumed,
// batched); "edges" is edge attribution patching between the 1+12x13
// upstream and 25 downstream nodes, also one forward and backward. Each
// runs once untimed first, so compiling is not counted.
func BenchmarkAttributionPatch(b *testing.B) {
	m, err := benchModel()
	if err != nil {
		b.Fatal(err)
	}
	const n = 12
	clean, corrupt := lm.Prompt{IDs: make([]int, n)}, lm.Prompt{IDs: make([]int, n)}
	for i := range n {
		clean.IDs[i] = 100 + 37*i
		corrupt.IDs[i] = clean.IDs[i]
	}
	corrupt.IDs[3] = 7
	a := NewAttributor(m)
	cfg, err := a.check(clean, corrupt, AttribConfig{Metric: logitDiff(42, 43)})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		run  func() error
	}{
		{"attribution", func() error {
			_, err := a.attribute(clean, corrupt, cfg)
			return err
		}},
		{"edges", func() error {
			_, err := a.Edges(clean, corrupt, cfg.Metric)
			return err
		}},
		{"exact", func() error {
			res := &AttribResult{}
			for _, c := range cfg.Components {
				rows, layers, heads := rowLabels(m.Dims(), c)
				res.Sites = append(res.Sites, SiteAttribution{Component: c, Rows: rows, Layers: layers, Heads: heads})
			}
			return a.exact.patch(clean, corrupt, cfg, res)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if err := bc.run(); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
