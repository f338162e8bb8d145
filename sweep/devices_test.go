package sweep

import (
	"math"
	"testing"

	"github.com/gomlx/compute"

	"github.com/govene/govene/internal/testxla"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/pv"
)

// probTol is how far apart (relative) the tests let a score be, split
// across devices, from one device's. XLA's CPU kernels round differently
// for different batch sizes, which moves logits by up to about 1e-5 (see
// pv's xlaTol) and so probabilities by about 1e-5 relative; a misplaced
// setting or weight moves them by far more.
const probTol = 1e-4

// TestDevicesSweep runs sweeps (resumed and plain position sweeps, a
// causal trace, a heads-at-positions sweep) with the model split across
// every device of the XLA CPU plugin and on device 0 alone, for the
// shipped GPT-2 and a random Qwen2 with grouped-query attention, and
// checks every score is the same, within probTol.
func TestDevicesSweep(t *testing.T) {
	b := testxla.Devices(t)
	for _, name := range []string{models.Shipped, "../models/testdata/qwen2"} {
		t.Run(name, func(t *testing.T) {
			all, one := testxla.Pair(t, b, func(b compute.Backend, devs []int) (lm.Model, error) {
				return models.Load(name, models.Options{Backend: b, Devices: devs})
			})
			base, src := prompt(5, 17, 42, 9, 33, 71), prompt(8, 17, 40, 2, 33, 70)
			cfg := Config{Metric: TokenProb(11), ChunkSize: 8}
			hpos := Config{Component: lm.HeadAttentionValueOutput, Unit: pv.HeadPos, Metric: TokenProb(11), ChunkSize: 8}
			cases := []struct {
				what string
				run  func(sw *Sweeper) (*Result, error)
				opts []Option
			}{
				{"patch", func(sw *Sweeper) (*Result, error) { return sw.Patch(base, src, cfg) }, nil},
				{"patch plain", func(sw *Sweeper) (*Result, error) { return sw.Patch(base, src, cfg) }, []Option{Resume(false)}},
				{"trace", func(sw *Sweeper) (*Result, error) {
					return sw.Trace(base, Corruption{Positions: []int{1, 2}, Level: 3, Seed: 1}, cfg)
				}, nil},
				{"h.pos", func(sw *Sweeper) (*Result, error) { return sw.Patch(base, src, hpos) }, nil},
			}
			for _, c := range cases {
				ra, err := c.run(New(all, c.opts...))
				if err != nil {
					t.Fatalf("%s, every device: %v", c.what, err)
				}
				ro, err := c.run(New(one, c.opts...))
				if err != nil {
					t.Fatalf("%s, one device: %v", c.what, err)
				}
				if math.Abs(ra.Base-ro.Base) > probTol*ro.Base || math.Abs(ra.Source-ro.Source) > probTol*ro.Source {
					t.Errorf("%s: base, source %v, %v on every device; %v, %v on one", c.what, ra.Base, ra.Source, ro.Base, ro.Source)
				}
				distinct, worst := map[float64]bool{}, 0.0
				for r, row := range ro.Values {
					for col, v := range row {
						distinct[v] = true
						d := math.Abs(ra.Values[r][col]-v) / math.Abs(v)
						if ra.Values[r][col] != v && !(d <= probTol) {
							t.Errorf("%s: row %d, column %d: %v on every device, %v on one", c.what, r, col, ra.Values[r][col], v)
						}
						worst = max(worst, d)
					}
				}
				t.Logf("%s: largest relative difference %.3g", c.what, worst)
				if len(distinct) < 2 {
					t.Errorf("%s: every setting scores the same, %v: the sweep does not tell settings apart", c.what, ro.Values)
				}
			}
		})
	}
}
