// Command govene-bench times govene on the workloads of bench/pyvene_bench.py,
// on the same checkpoint and the same token ids, and writes JSON that
// bench/report.py sets beside pyvene's.
//
//	govene-bench -checkpoint DIR [-llama-checkpoint DIR] [-quick] [-only forward,trace,...] [-out FILE]
//
// The checkpoint is the random GPT-2 small that bench/pyvene_bench.py
// --make-checkpoint writes; the Llama checkpoint, the random Llama that
// --make-checkpoint-llama writes. Each workload uses govene's fast path:
//
//	forward       pv.Model.Forward, batch 1 x 16, Vanilla block_output L6 at the last position
//	trace         sweep.Sweeper.Trace (noise on positions 1..3, 3 x the embeddings' std),
//	              restoring block_output at layers x positions; trace_newlen: a 12-token prompt
//	heads         sweep.Sweeper.Patch, head_attention_value_output unit h.pos at the last
//	              position, layers x 12 heads; heads_newlen: 12-token prompts
//	das_step      pv.Model.Train, LowRankRotatedSpace r=64 at block_output L6, batch 8 x 16,
//	              per-step times from TrainConfig.OnStep
//	generate      pv.Model.Generate, 32 greedy tokens, a constant steering vector added to
//	              mlp_output L6 (InterveneOnPrompt and EveryStep)
//	attrib        analysis.Attributor.Patch: attribution patching over every site
//	              (block_input, attention_output, mlp_output per layer x position,
//	              head_result per layer x head x position) of a 12-token clean/corrupted
//	              pair, metric logit difference: one compiled forward and backward
//	attrib_exact  the same with Exact: exact activation patching of every cell
//	              (block_input at layer 6 only with -quick, 12 cells)
//	forward_llama, generate_llama
//	              forward and generate on the Llama checkpoint, loaded with models.Load
//	              (only with -llama-checkpoint; token ids modulo its vocabulary)
//
// first_ms is the first call (it includes building and compiling the graphs);
// steady_ms the median of later calls with the same shapes. -quick (or
// BENCH_QUICK=1) sweeps fewer layers and positions and repeats less. The
// backend is govene's default (GOMLX_BACKEND chooses another, for example
// an XLA CUDA plugin).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/internal/procstatus"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/sweep"
)

const (
	nLayer, nHead, vocab = 12, 12, 50257
)

// prompt returns the deterministic token ids of prompt k, n tokens long,
// for GPT-2's vocabulary (the same formula as bench/pyvene_bench.py).
func prompt(k, n int) lm.Prompt { return promptIn(k, n, vocab) }

// promptIn returns prompt k, n tokens long, with ids below min(50000,
// vocabSize) (as bench/pyvene_bench.py's prompt(k, n, vocab)).
func promptIn(k, n, vocabSize int) lm.Prompt {
	ids := make([]int, n)
	for j := range ids {
		ids[j] = (7919*k + 104729*j + 1000) % min(50000, vocabSize)
	}
	return lm.Prompt{IDs: ids}
}

// steerValue is the steering vector's j-th value (as in pyvene_bench.py).
func steerValue(j int) float32 { return float32((j*37)%17-8) / 4 }

// dasLabel is DAS example i's label (as in pyvene_bench.py).
func dasLabel(i int) int { return (i*7907 + 11) % vocab }

// sweepPositions are the positions a sweep covers on an n-token prompt.
func sweepPositions(n int, quick bool) []int {
	if quick {
		return []int{0, 3, n / 2, n - 1}
	}
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// Workload is one timed workload in the JSON.
type Workload struct {
	FirstMS  float64   `json:"first_ms"`
	SteadyMS float64   `json:"steady_ms"`
	MinMS    float64   `json:"min_ms,omitempty"`
	Reps     int       `json:"reps"`
	Settings int       `json:"settings,omitempty"`
	StepMS   []float64 `json:"step_ms,omitempty"`
	What     string    `json:"what"`
	// Compiles counts graph compilations the workload triggered, where
	// govene reports them.
	Compiles int64 `json:"compiles,omitempty"`
	// Extra holds workload-specific timings (for example a second Train
	// call's first step).
	Extra map[string]float64 `json:"extra,omitempty"`
}

// Results is the JSON written.
type Results struct {
	Impl        string               `json:"impl"`
	Device      string               `json:"device"`
	Backend     string               `json:"backend"`
	Host        string               `json:"host"`
	Quick       bool                 `json:"quick"`
	Cores       int                  `json:"cores"`
	GoVersion   string               `json:"go_version"`
	Checkpoint  string               `json:"checkpoint"`
	LoadMS      float64              `json:"load_ms"`
	SweepLayers []int                `json:"sweep_layers"`
	Workloads   map[string]*Workload `json:"workloads"`
	Checks      map[string]any       `json:"checks"`
	PeakRSSMB   float64              `json:"peak_rss_mb"`
	Errors      map[string]string    `json:"errors,omitempty"`

	// LlamaCheckpoint and LlamaLoadMS describe the Llama checkpoint, where
	// a Llama workload ran.
	LlamaCheckpoint string  `json:"llama_checkpoint,omitempty"`
	LlamaLoadMS     float64 `json:"llama_load_ms,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "govene-bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "govene-bench: "+format+"\n", args...)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// timeIt runs f once and returns its duration in milliseconds.
func timeIt(f func() error) (float64, error) {
	t := time.Now()
	err := f()
	return ms(time.Since(t)), err
}

// repeat times a first call of f and then reps more.
func repeat(reps int, f func() error) (*Workload, error) {
	first, err := timeIt(f)
	if err != nil {
		return nil, err
	}
	var times []float64
	for range reps {
		t, err := timeIt(f)
		if err != nil {
			return nil, err
		}
		times = append(times, t)
	}
	return &Workload{FirstMS: first, SteadyMS: median(times), MinMS: slices.Min(times), Reps: reps}, nil
}

func run() error {
	ckpt := flag.String("checkpoint", "", "folder of the random GPT-2 small checkpoint (bench/pyvene_bench.py --make-checkpoint DIR)")
	quick := flag.Bool("quick", os.Getenv("BENCH_QUICK") != "" && os.Getenv("BENCH_QUICK") != "0", "one sweep layer, 4 positions, fewer repetitions (also BENCH_QUICK=1)")
	only := flag.String("only", "", "comma-separated workloads to run (default all)")
	llamaCkpt := flag.String("llama-checkpoint", "", "folder of the random Llama checkpoint (bench/pyvene_bench.py --make-checkpoint-llama DIR); runs forward_llama and generate_llama")
	out := flag.String("out", "", "write the JSON here instead of stdout")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here (go tool pprof)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *ckpt == "" {
		return errors.New("-checkpoint DIR is required (create it with: python bench/pyvene_bench.py --make-checkpoint DIR)")
	}
	want := func(name string) bool {
		return *only == "" || slices.Contains(strings.Split(*only, ","), name)
	}
	layers := make([]int, nLayer)
	for i := range layers {
		layers[i] = i
	}
	repsFwd, repsGen, dasWarm, dasSteps := 10, 3, 2, 10
	if *quick {
		layers = []int{nLayer / 2}
		repsFwd, repsGen, dasWarm, dasSteps = 3, 1, 1, 1
	}

	host, _ := os.Hostname()
	res := &Results{Impl: "govene", Host: host, Quick: *quick, Cores: runtime.NumCPU(), GoVersion: runtime.Version(),
		Checkpoint: *ckpt, SweepLayers: layers, Workloads: map[string]*Workload{}, Checks: map[string]any{},
		Errors: map[string]string{}}
	start := time.Now()
	// GPT-2 only, on purpose: the benchmark compares with pyvene on a
	// random GPT-2 small checkpoint and reads its wte (embeddingStd).
	m, err := gpt2.LoadDir(*ckpt, gpt2.Options{})
	if err != nil {
		return err
	}
	res.LoadMS = ms(time.Since(start))
	res.Backend = backend.Chosen()
	res.Device = m.Backend().Description()
	logf("loaded %s in %.0f ms on %s (%s)%s", *ckpt, res.LoadMS, res.Backend, res.Device, map[bool]string{true: " [quick]"}[*quick])

	// Each workload records its error and the others go on, so one broken
	// path still leaves a table.
	do := func(name string, f func() error) {
		if !want(name) {
			return
		}
		if err := f(); err != nil {
			logf("%s: %v", name, err)
			res.Errors[name] = err.Error()
			return
		}
		if w := res.Workloads[name]; w != nil {
			logf("%s: first %.1f ms, steady %.1f ms", name, w.FirstMS, w.SteadyMS)
		}
	}

	// (a) One intervened forward.
	do("forward", func() error {
		return forward(res, "forward", m, repsFwd, "1 x 16 tokens, Vanilla block_output L6 at the last position, one source")
	})

	// (b) Causal tracing.
	sw := sweep.New(m)
	cleanTarget := func(p lm.Prompt) (int, error) {
		r, err := m.Run([]lm.Prompt{p})
		if err != nil {
			return 0, err
		}
		l, err := r.NextTokenLogits(0)
		return lm.Argmax(l), err
	}
	level, err := embeddingStd(m)
	if err != nil {
		return err
	}
	level *= 3
	trace := func(p lm.Prompt) (*sweep.Result, error) {
		target, err := cleanTarget(p)
		if err != nil {
			return nil, err
		}
		return sw.Trace(p, sweep.Corruption{Positions: []int{1, 2, 3}, Level: level, Seed: 1}, sweep.Config{
			Component: lm.BlockOutput, Layers: layers, Positions: sweepPositions(p.Len(), *quick), Metric: sweep.TokenProb(target),
		})
	}
	allHeads := make([]int, nHead)
	for i := range allHeads {
		allHeads[i] = i
	}
	runSweep := func(name, what string, settings int, cols []int, f func() (*sweep.Result, error)) func() error {
		return func() error {
			var r *sweep.Result
			w, err := repeat(1, func() (err error) { r, err = f(); return err })
			if err != nil {
				return err
			}
			w.What, w.Settings = what, settings
			res.Workloads[name] = w
			res.Checks[name] = gridCheck(r, layers, cols)
			return nil
		}
	}
	nPos := len(sweepPositions(16, *quick))
	do("trace", runSweep("trace", fmt.Sprintf("Sweeper.Trace, %d layers x %d positions", len(layers), nPos), len(layers)*nPos,
		sweepPositions(16, *quick), func() (*sweep.Result, error) { return trace(prompt(2, 16)) }))
	do("trace_newlen", func() error {
		p := prompt(3, 12)
		var r *sweep.Result
		t, err := timeIt(func() (err error) { r, err = trace(p); return err })
		if err != nil {
			return err
		}
		n := len(sweepPositions(12, *quick))
		res.Workloads["trace_newlen"] = &Workload{FirstMS: t, SteadyMS: t, Reps: 1, Settings: len(layers) * n,
			What: fmt.Sprintf("Sweeper.Trace on a new 12-token prompt (new shapes: compiles), %d layers x %d positions", len(layers), n)}
		res.Checks["trace_newlen"] = gridCheck(r, layers, sweepPositions(12, *quick))
		return nil
	})

	// (c) Head patching.
	heads := func(base, src lm.Prompt) (*sweep.Result, error) {
		target, err := cleanTarget(src)
		if err != nil {
			return nil, err
		}
		return sw.Patch(base, src, sweep.Config{
			Component: lm.HeadAttentionValueOutput, Unit: pv.HeadPos, Layers: layers, Metric: sweep.TokenProb(target),
		})
	}
	do("heads", runSweep("heads", fmt.Sprintf("Sweeper.Patch h.pos, %d layers x 12 heads at the last position", len(layers)), len(layers)*nHead,
		allHeads, func() (*sweep.Result, error) { return heads(prompt(4, 16), prompt(5, 16)) }))
	do("heads_newlen", func() error {
		var r *sweep.Result
		t, err := timeIt(func() (err error) { r, err = heads(prompt(6, 12), prompt(7, 12)); return err })
		if err != nil {
			return err
		}
		res.Workloads["heads_newlen"] = &Workload{FirstMS: t, SteadyMS: t, Reps: 1, Settings: len(layers) * nHead,
			What: "Sweeper.Patch h.pos on new 12-token prompts (new shapes: compiles)"}
		res.Checks["heads_newlen"] = gridCheck(r, layers, allHeads)
		return nil
	})

	// (d) DAS training steps.
	do("das_step", func() error {
		iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
			{Layer: 6, Component: lm.BlockOutput, Unit: pv.Pos, MaxNumberOfUnits: 1, LowRankDimension: 64, InterventionType: pv.LowRankRotatedSpace},
		}})
		if err != nil {
			return err
		}
		examples := func(from, n int) []pv.Example {
			var ex []pv.Example
			for i := from; i < from+n; i++ {
				ex = append(ex, pv.Example{Base: prompt(100+i, 16), Sources: []lm.Prompt{prompt(300+i, 16)}, Label: dasLabel(i)})
			}
			return ex
		}
		// Per-step times from OnStep timestamps; step 1 counts from the
		// Train call (it includes building the trainer and compiling).
		trainTimes := func(data []pv.Example) ([]float64, []float64, error) {
			var times, losses []float64
			last := time.Now()
			_, err := iv.Train(data, nil, pv.TrainConfig{Epochs: 1, BatchSize: 8, Seed: 1, Progress: io.Discard,
				OnStep: func(step int, loss, _ float64) {
					now := time.Now()
					times, losses = append(times, ms(now.Sub(last))), append(losses, loss)
					last = now
				}})
			return times, losses, err
		}
		n := dasWarm + dasSteps
		times, losses, err := trainTimes(examples(0, 8*n))
		if err != nil {
			return err
		}
		if len(times) != n {
			return fmt.Errorf("train made %d steps, want %d", len(times), n)
		}
		steady := times[dasWarm:]
		w := &Workload{FirstMS: times[0], SteadyMS: median(steady), MinMS: slices.Min(steady), Reps: len(steady), StepMS: times,
			What: "Train: LowRankRotatedSpace r=64 block_output L6, batch 8 x 16, Adam (fwd+bwd+step)"}
		// A second Train call on the same model: does it compile again?
		again, _, err := trainTimes(examples(8*n, 8*min(2, dasSteps)))
		if err != nil {
			return err
		}
		w.Extra = map[string]float64{"second_train_call_first_step_ms": again[0]}
		if len(again) > 1 {
			w.Extra["second_train_call_second_step_ms"] = again[1]
		}
		res.Workloads["das_step"] = w
		res.Checks["das_step"] = map[string]any{"first_loss": losses[0]}
		return nil
	})

	// (e) Steered generation.
	do("generate", func() error {
		return generate(res, "generate", m, repsGen, "Generate: greedy 32 tokens, 16-token prompt, steering vector added to mlp_output L6")
	})

	// (g) Attribution patching and exact patching over every site.
	do("attrib", func() error { return attrib(res, m, repsFwd) })
	do("attrib_exact", func() error { return attribExact(res, m, 1, *quick) })

	// (f) The same forward and generation on the random Llama, loaded as
	// any family is (models.Load picks it from config.json).
	llamaNames := slices.DeleteFunc([]string{"forward_llama", "generate_llama"}, func(n string) bool { return !want(n) })
	switch {
	case len(llamaNames) == 0:
	case *llamaCkpt == "":
		logf("no -llama-checkpoint: skipping %s", strings.Join(llamaNames, ", "))
	default:
		// On GPT-2's backend, so both families run on the one reported.
		start := time.Now()
		llm, err := models.Load(*llamaCkpt, models.Options{Backend: m.Backend()})
		if err != nil {
			// Recorded like a failed workload: the GPT-2 rows still make a table.
			logf("%v", err)
			for _, n := range llamaNames {
				res.Errors[n] = err.Error()
			}
			break
		}
		res.LlamaCheckpoint, res.LlamaLoadMS = *llamaCkpt, ms(time.Since(start))
		logf("loaded %s (%s) in %.0f ms", *llamaCkpt, llm.Family(), res.LlamaLoadMS)
		do("forward_llama", func() error {
			return forward(res, "forward_llama", llm, repsFwd, "Llama, 1 x 16 tokens, Vanilla block_output L6 at the last position, one source")
		})
		do("generate_llama", func() error {
			return generate(res, "generate_llama", llm, repsGen, "Llama, Generate: greedy 32 tokens, 16-token prompt, steering vector added to mlp_output L6")
		})
	}

	res.PeakRSSMB = peakRSSMB()
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	data, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if *out != "" {
		err = os.WriteFile(*out, data, 0o644)
	} else {
		_, err = os.Stdout.Write(data)
	}
	if err != nil {
		return err
	}
	if res.Errors != nil {
		return fmt.Errorf("%d workload(s) failed: %v", len(res.Errors), slices.Sorted(maps.Keys(res.Errors)))
	}
	return nil
}

// gridCheck lists every cell of a sweep as "layer:column" (column: the
// position or head), for the cross-check with pyvene's grid.
func gridCheck(r *sweep.Result, layers, cols []int) map[string]any {
	cells := map[string]float64{}
	for i, vals := range r.Values {
		for j, x := range vals {
			cells[fmt.Sprintf("%d:%d", layers[i], cols[j])] = x
		}
	}
	return map[string]any{"cells": cells}
}

// embeddingStd returns the standard deviation of the token embeddings
// (wte, the first parameter).
func embeddingStd(m *gpt2.Model) (float64, error) {
	names := m.ParamNames()
	i := slices.IndexFunc(names, func(n string) bool { return strings.HasSuffix(n, "wte.weight") })
	if i < 0 {
		return 0, fmt.Errorf("no wte.weight among the parameters %v", names[:min(3, len(names))])
	}
	vals, err := tensors.CopyFlatData[float32](m.Params()[i])
	if err != nil {
		return 0, err
	}
	var s, s2 float64
	for _, v := range vals {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(len(vals))
	mean := s / n
	return math.Sqrt((s2 - n*mean*mean) / (n - 1)), nil
}

// peakRSSMB returns the process's peak resident set size (VmHWM) in MiB, or
// 0 where /proc is not available.
func peakRSSMB() float64 {
	return float64(procstatus.Bytes("VmHWM")) / (1 << 20)
}
