package main

import (
	"fmt"

	"github.com/govene/govene"
	"github.com/govene/govene/analysis"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/sweep"
)

// The attribution workloads compare with TransformerLens 4.3.0
// (bench/tl_attrib_bench.py) on the same checkpoint and ids: a 12-token
// clean prompt (ids 100+37*i), the corrupted one with position 3 set to
// id 7, metric logit(42) - logit(43) after the last token (as
// analysis.BenchmarkAttributionPatch and bench/tl_attrib_bench.py).

// attribPair returns the clean and the corrupted prompt of the attribution
// workloads.
func attribPair() (clean, corrupt lm.Prompt) {
	const n = 12
	clean, corrupt = lm.Prompt{IDs: make([]int, n)}, lm.Prompt{IDs: make([]int, n)}
	for i := range n {
		clean.IDs[i] = 100 + 37*i
		corrupt.IDs[i] = clean.IDs[i]
	}
	corrupt.IDs[3] = 7
	return clean, corrupt
}

// attribMetric is the attribution workloads' metric.
var attribMetric = govene.MetricSpec{Kind: govene.MetricLogitDiff, Tokens: []int{42, 43}}

// attrib times workload attrib: Attributor.Patch over every default site
// (block_input, attention_output, mlp_output per layer x position,
// head_result per layer x head x position) from one compiled forward and
// backward, reps times after a first call that compiles. It stores the
// timing and every cell in res, and returns analysis' error.
func attrib(res *Results, m lm.Model, reps int) error {
	clean, corrupt := attribPair()
	a := analysis.NewAttributor(m)
	var r *analysis.AttribResult
	w, err := repeat(reps, func() (err error) {
		r, err = a.Patch(clean, corrupt, analysis.AttribConfig{Metric: attribMetric})
		return err
	})
	if err != nil {
		return err
	}
	w.What = "Attributor.Patch: every site (block_input, attention_output, mlp_output, head_result) of a 12-token pair, one compiled forward + backward"
	w.Compiles, w.Settings = a.Compiles(), attribCells(r)
	res.Workloads["attrib"] = w
	res.Checks["attrib"] = attribCheck(r, false)
	return nil
}

// quickExactLayer is the one layer -quick's exact patching covers (as
// bench/tl_attrib_bench.py's QUICK_LAYER).
const quickExactLayer = 6

// attribExact times workload attrib_exact: Attributor.Patch with Exact
// (attribution and then exact activation patching of every cell, batched
// by package sweep), reps times after a first call that compiles. With
// quick it patches block_input at quickExactLayer alone (12 cells, with
// sweep.Sweeper.Patch, which Exact uses), as TransformerLens' side does:
// its exact patching of all 2160 cells takes many minutes. It stores the
// timing and the exact cells (the patched metric minus the corrupted
// run's) in res.
func attribExact(res *Results, m lm.Model, reps int, quick bool) error {
	clean, corrupt := attribPair()
	var run func() error
	var check func() map[string]any
	what := "Attributor.Patch with Exact: exact activation patching (package sweep) of every site on a 12-token pair, plus the attribution"
	if quick {
		metric, err := sweep.MetricOf(attribMetric)
		if err != nil {
			return err
		}
		sw := sweep.New(m)
		var r *sweep.Result
		run = func() (err error) {
			r, err = sw.Patch(corrupt, clean, sweep.Config{Component: lm.BlockInput, Unit: pv.Pos, Layers: []int{quickExactLayer}, Metric: metric})
			return err
		}
		check = func() map[string]any {
			cells := map[string]float64{}
			for p, x := range r.Values[0] {
				cells[fmt.Sprintf("%s:%d:%d", lm.BlockInput, quickExactLayer, p)] = x - r.Base
			}
			return map[string]any{"cells": cells}
		}
		what = fmt.Sprintf("Sweeper.Patch (as Attributor.Patch's Exact) of block_input L%d at 12 positions [quick]", quickExactLayer)
	} else {
		a := analysis.NewAttributor(m)
		var r *analysis.AttribResult
		run = func() (err error) {
			r, err = a.Patch(clean, corrupt, analysis.AttribConfig{Metric: attribMetric, Exact: true})
			return err
		}
		check = func() map[string]any { return attribCheck(r, true) }
	}
	w, err := repeat(reps, run)
	if err != nil {
		return err
	}
	c := check()
	w.What, w.Settings = what, len(c["cells"].(map[string]float64))
	res.Workloads["attrib_exact"] = w
	res.Checks["attrib_exact"] = c
	return nil
}

// attribCells returns the number of cells of r's grids.
func attribCells(r *analysis.AttribResult) int {
	n := 0
	for _, s := range r.Sites {
		for _, row := range s.Attribution {
			n += len(row)
		}
	}
	return n
}

// attribCheck lists r's attribution (or, with exact, exact patching)
// cells as "component:row:position" (row: the layer, or "L3H1"), with
// the clean and corrupted metric, for the cross-check with
// TransformerLens.
func attribCheck(r *analysis.AttribResult, exact bool) map[string]any {
	cells := map[string]float64{}
	for _, s := range r.Sites {
		grid := s.Attribution
		if exact {
			grid = s.Exact
		}
		for i, row := range grid {
			for p, x := range row {
				cells[fmt.Sprintf("%s:%s:%d", s.Component, s.Rows[i], p)] = x
			}
		}
	}
	return map[string]any{"cells": cells, "clean": r.Clean, "corrupt": r.Corrupt}
}
