// Tutorial 3, a trainable intervention (DAS): a LowRankRotatedSpace
// intervention of rank 64 at the last token's residual stream after block 6
// (of GPT-2 small; the same depth in other models) is trained with Adam so
// that, given a base "LANDMARK1 is in the city of" and a source "LANDMARK2
// is in the city of", the model answers the source's city: the rotation
// learns the subspace that carries "which city". Loss, IIA and the target's
// probability are printed as it trains; the learned rotation is inspected.
// The training curves are written to das.svg in the output folder.
//
//	go run ./tutorials/das [-steps 200] [-model gpt2] [-out folder]
package main

import (
	"flag"
	"fmt"
	"github.com/govene/govene/backend"
	"io"
	"math"
	"slices"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/shipped/facts"
	"github.com/govene/govene/train"
	"github.com/govene/govene/tutorials/internal/tut"
)

type result struct {
	Layer, Rank               int
	TargetBefore, TargetAfter float64 // P(source city) on the demo pair
	IIABefore, IIAAfter       float64 // on held-out pairs
	Orthogonality             float64 // max |WᵀW - I| of the learned rotation
	Steps                     int     // steps trained
	Losses                    []float64
}

// examples pairs every landmark (as base) with landmarks of other cities
// (as sources); the label is the source's city. With cities given, only
// landmarks of those cities take part (every pair of them).
func examples(m models.Model, cities ...string) ([]pv.Example, error) {
	var out []pv.Example
	for i, b := range facts.Landmarks {
		for j, s := range facts.Landmarks {
			if len(cities) > 0 && !(slices.Contains(cities, b.City) && slices.Contains(cities, s.City)) {
				continue
			}
			if b.City == s.City || len(cities) == 0 && (i+j)%3 != 0 {
				continue
			}
			label, err := tut.TokenID(m, " "+s.City)
			if err != nil {
				return nil, fmt.Errorf("das: %w", err)
			}
			out = append(out, pv.Example{
				Base:    m.Encode(b.Name + " is in the city of"),
				Sources: []lm.Prompt{m.Encode(s.Name + " is in the city of")},
				Label:   label,
			})
		}
	}
	return out, nil
}

func run(m models.Model, o tut.Out, steps int) (*result, error) {
	w := o.W
	layer := tut.Layer(m, 6)
	rank := min(64, m.Dims().Hidden/2)
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: layer, Component: lm.BlockOutput, InterventionType: pv.LowRankRotatedSpace, LowRankDimension: rank},
	}})
	if err != nil {
		return nil, err
	}
	all, err := examples(m)
	if err != nil {
		return nil, err
	}
	var data, eval []pv.Example
	for i, e := range all {
		if i%5 == 0 {
			eval = append(eval, e)
		} else {
			data = append(data, e)
		}
	}
	demo := eval[0]
	prob := func() (float64, error) {
		out, err := iv.Forward([]lm.Prompt{demo.Base}, pv.Sources(demo.Sources...), pv.At(demo.Sources[0].Last(), demo.Base.Last()))
		if err != nil {
			return 0, err
		}
		p, err := out.NextTokenProbs(0, false)
		return float64(p[demo.Label]), err
	}
	r := &result{Layer: layer, Rank: rank}
	if r.TargetBefore, err = prob(); err != nil {
		return nil, err
	}
	if r.IIABefore, err = iv.IIA(eval, 32); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "model: %s\nDAS: LowRankRotatedSpace rank %d at block_output layer %d; %d trainable parameters; %d training pairs, %d held out\n",
		m, rank, layer, iv.TrainableParameters(), len(data), len(eval))
	fmt.Fprintf(w, "before training: IIA %.3f, P(%q | %q with %q) = %.4f\n", r.IIABefore, m.TokenString(demo.Label), demo.Base.Text, demo.Sources[0].Text, r.TargetBefore)
	// In a notebook the live chart redraws the loss and IIA curves in place;
	// outside one it only collects them for the file written at the end, and
	// the lines below report the progress (the chart's own text lines would
	// repeat them).
	chart := plots.NewLiveChart(plots.LineChart{Title: "DAS training", XLabel: "step", YLabel: "loss / IIA"})
	chart.Out = io.Discard
	rep, err := iv.Train(data, eval, pv.TrainConfig{
		Steps: steps, BatchSize: 16, Adam: train.Adam{LR: 5e-3}, Progress: io.Discard,
		OnStep: func(step int, loss, iia float64) {
			chart.Add("loss", float64(step), loss)
			evaluated := !math.IsNaN(iia)
			if evaluated {
				chart.Add("eval IIA", float64(step), iia)
			}
			switch {
			case evaluated:
				fmt.Fprintf(w, "step %4d  loss %.4f  eval IIA %.3f\n", step, loss, iia)
			case step == 1 || step%10 == 0:
				fmt.Fprintf(w, "step %4d  loss %.4f\n", step, loss)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if err := chart.Flush(); err != nil {
		return nil, err
	}
	r.Steps, r.Losses = rep.Steps, rep.Losses
	if r.TargetAfter, err = prob(); err != nil {
		return nil, err
	}
	if r.IIAAfter, err = iv.IIA(eval, 32); err != nil {
		return nil, err
	}
	// The learned rotation: its columns stay orthonormal.
	wt, shape, err := iv.Weight(iv.Keys()[0], "rotate_layer")
	if err != nil {
		return nil, err
	}
	if r.Orthogonality, err = pv.OrthogonalityError(wt, shape); err != nil {
		return nil, err
	}
	n, k := shape[0], shape[1]
	fmt.Fprintf(w, "after %d steps (%s): IIA %.3f, P(target) = %.4f; rotation %dx%d, max |WᵀW - I| = %.2g\n",
		rep.Steps, rep.Duration.Round(1e6), r.IIAAfter, r.TargetAfter, n, k, r.Orthogonality)
	return r, o.Show(chart, "das.svg")
}

func main() {
	steps := flag.Int("steps", 200, "training steps (batches of 16)")
	// Training runs each step's base and source prompts (about 12 tokens,
	// batches of 16) forward and back: about 3 x 16 x 12 tokens a step, which
	// makes XLA's CPU plugin, when installed, pay off (61 s against 116 s
	// on the pure-Go backend for 200 steps).
	work := func() backend.Workload {
		return backend.Workload{Name: "DAS training", Tokens: int64(*steps) * 3 * 16 * 12}
	}
	tut.MainFor("das", work, func(m models.Model, o tut.Out) error {
		if *steps <= 0 {
			return fmt.Errorf("-steps %d: must be positive", *steps)
		}
		_, err := run(m, o, *steps)
		return err
	})
}
