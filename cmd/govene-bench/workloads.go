package main

import (
	"math"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// The workloads below run on any lm.Model: the GPT-2 checkpoint's forward
// and generate, and the Llama checkpoint's forward_llama and
// generate_llama, so both families run exactly the same calls.

// forward times workload (a) on m under name: one intervened forward of
// batch 1 x 16 tokens (ids below m's vocabulary), Vanilla block_output L6
// at the last position from one source, reps times after a first call. It
// stores the timing and the next-token argmax and max logit in res, and
// returns pv's error.
func forward(res *Results, name string, m lm.Model, reps int, what string) error {
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: 6, Component: lm.BlockOutput, Unit: pv.Pos, MaxNumberOfUnits: 1, InterventionType: pv.Vanilla},
	}})
	if err != nil {
		return err
	}
	v := m.Dims().Vocab
	base, src := promptIn(0, 16, v), promptIn(1, 16, v)
	var o *pv.Output
	w, err := repeat(reps, func() (err error) {
		o, err = iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.At(15, 15))
		return err
	})
	if err != nil {
		return err
	}
	w.What, w.Compiles = what, iv.Compiles()
	res.Workloads[name] = w
	last, err := (&lm.Result{Batch: o.Base, Logits: o.Logits}).NextTokenLogits(0)
	if err != nil {
		return err
	}
	am := lm.Argmax(last)
	var norm float64
	for _, v := range last {
		norm += float64(v) * float64(v)
	}
	res.Checks[name] = map[string]any{"argmax": am, "max_logit": last[am], "logit_norm": math.Sqrt(norm)}
	return nil
}

// generate times workload (e) on m under name: 32 greedy tokens from a
// 16-token prompt (ids below m's vocabulary) with the steering vector
// added to mlp_output L6 on the prompt and every step, reps times after a
// first call. It stores the timing and the new tokens in res, and returns
// pv's error.
func generate(res *Results, name string, m lm.Model, reps int, what string) error {
	steer := make([]float32, m.Dims().Hidden)
	for j := range steer {
		steer[j] = steerValue(j)
	}
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: 6, Component: lm.MLPOutput, Unit: pv.Pos, MaxNumberOfUnits: 1, InterventionType: pv.Addition, SourceRepresentation: steer},
	}})
	if err != nil {
		return err
	}
	p := promptIn(30, 16, m.Dims().Vocab)
	var g *pv.Generation
	w, err := repeat(reps, func() (err error) {
		g, err = iv.Generate([]lm.Prompt{p}, pv.GenerateOptions{Sampling: lm.Sampling{MaxNewTokens: 32}, InterveneOnPrompt: true, EveryStep: true})
		return err
	})
	if err != nil {
		return err
	}
	w.What, w.Compiles = what, iv.Compiles()
	res.Workloads[name] = w
	res.Checks[name] = map[string]any{"tokens": g.NewTokens[0]}
	return nil
}
