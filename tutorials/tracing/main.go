// Tutorial 2, causal tracing (ROME): "The Space Needle is in downtown" ->
// " Seattle". The subject's token embeddings are corrupted with noise (3
// times the standard deviation of the prompt's token embeddings); then the
// clean value of the residual stream, the MLP output and the attention
// output (the latter two over a window of layers) is restored at each layer
// and position, and P(" Seattle") is shown as heat maps.
//
//	go run ./tutorials/tracing [-model gpt2-xl] [-out folder]
package main

import (
	"fmt"

	"github.com/govene/govene/models"
	"github.com/govene/govene/sweep"
	"github.com/govene/govene/trace"
	"github.com/govene/govene/tutorials/internal/tut"
)

func run(m models.Model, o tut.Out) (*trace.Result, error) {
	w := o.W
	r, err := trace.Run(m, sweep.New(m), trace.Config{
		Prompt: "The Space Needle is in downtown", Subject: "Space Needle", Target: " Seattle", Seed: 1,
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "model: %s\n", m)
	fmt.Fprintf(w, "P(%q): clean %.4f, subject corrupted %.4f (noise level %.3g)\n", r.Target, r.Clean, r.Corrupted, r.NoiseLevel)
	for _, g := range r.Grids {
		v, row, col := g.Result.Max()
		fmt.Fprintf(w, "%-16s restoring layer %s at %q gives the most: %.4f\n", g.Component, g.Result.Rows[row], r.Tokens[col], v)
	}
	for i, h := range r.HeatMaps() {
		if err := o.Show(h, fmt.Sprintf("tracing-%d.svg", i)); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func main() {
	tut.Main("tracing", tut.Result(run))
}
