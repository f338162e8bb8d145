package analysis

import (
	"fmt"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/sweep"
)

// exactPatcher runs exact activation patching on attribution patching's
// grid with package sweep, keeping its compiled graphs between calls.
type exactPatcher struct {
	model   lm.Model
	sweeper *sweep.Sweeper
}

// newExactPatcher returns an exactPatcher for m.
func newExactPatcher(m lm.Model) exactPatcher {
	return exactPatcher{model: m, sweeper: sweep.New(m)}
}

// patch fills res's Exact grids and agreements: each cell is the metric
// of the corrupted run (sweep's base) with the clean run's (sweep's
// source) value at that layer, position (and head) patched in, minus the
// unpatched corrupted run's metric.
func (e exactPatcher) patch(clean, corrupt lm.Prompt, cfg AttribConfig, res *AttribResult) error {
	metric, err := sweep.MetricOf(cfg.Metric)
	if err != nil {
		return fmt.Errorf("analysis: %w", err)
	}
	d := e.model.Dims()
	s := corrupt.Len()
	for i := range res.Sites {
		site := &res.Sites[i]
		c := site.Component
		exact := make([][]float64, len(site.Rows))
		for r := range exact {
			exact[r] = make([]float64, s)
		}
		if !c.IsHead() {
			out, err := e.sweeper.Patch(corrupt, clean, sweep.Config{Component: c, Unit: pv.Pos, Metric: metric})
			if err != nil {
				return fmt.Errorf("analysis: exact patching of %s: %w", c, err)
			}
			for l := range d.Layers {
				for p := range s {
					exact[l][p] = out.Values[l][p] - out.Base
				}
			}
		} else {
			heads := d.HeadCount(c)
			for p := range s {
				out, err := e.sweeper.Patch(corrupt, clean, sweep.Config{Component: c, Unit: pv.HeadPos, Positions: []int{p}, Metric: metric})
				if err != nil {
					return fmt.Errorf("analysis: exact patching of %s at position %d: %w", c, p, err)
				}
				for l := range d.Layers {
					for h := range heads {
						exact[l*heads+h][p] = out.Values[l][h] - out.Base
					}
				}
			}
		}
		site.Exact = exact
		ag := agree(site.Attribution, exact, cfg.TopK)
		site.Agreement = &ag
	}
	return nil
}
