// Command retrain regenerates the shipped model's corpus, trains the model
// with govene's own trainer, evaluates it on the tutorials' facts and writes
// the checkpoint (float16 safetensors in Hugging Face layout, GPT-2's
// tokenizer files and TRAINING.md with the measurements):
//
//	go run ./shipped/cmd/retrain -out shipped/model
//
// With -bench N it only times N training steps; with -eval DIR it only
// evaluates a checkpoint.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/internal/progress"
	"github.com/govene/govene/shipped/internal/retrain"
	"github.com/govene/govene/sweep"
	"github.com/govene/govene/trace"
)

func main() {
	def := retrain.DefaultTrainConfig()
	out := flag.String("out", "", "folder to write the checkpoint to (required unless -bench or -eval)")
	seed := flag.Uint64("seed", def.Seed, "seed of the corpus, the initial weights and the batch order")
	steps := flag.Int("steps", def.Steps, "training steps")
	lr := flag.Float64("lr", def.Adam.LR, "peak Adam learning rate")
	warmup := flag.Int("warmup", def.Adam.WarmupSteps, "learning-rate warm-up steps")
	corpus := flag.Int("corpus", def.CorpusSize, "corpus sentences")
	targets := flag.Int("targets", def.Targets, "predicted tokens per batch")
	negatives := flag.Int("negatives", def.Negatives, "sampled-softmax negatives per step (-1: exact full-vocabulary softmax)")
	layers := flag.Int("layers", def.Model.NLayer, "transformer layers")
	local := flag.Int("local", def.LocalLayers, "first layers trained to attend locally (-1: none)")
	window := flag.Int("window", def.LocalWindow, "previous positions a local layer may attend to")
	localWeight := flag.Float64("local-weight", def.LocalWeight, "weight of the local-attention loss")
	recency := flag.Float64("recency", def.RecencyWeight, "weight of the other layers' mean attention distance in the loss")
	subjectWeight := flag.Float64("subject-weight", def.SubjectWeight, "weight of the later layers' attention on a subject's tokens before its last (-1: off)")
	subjectStrict := flag.Bool("subject-strict", def.SubjectStrict, "also penalise the later layers' attention from the last subject token to the subject's other tokens, and the local layers' attention from after the subject to it")
	subjectRead := flag.Int("subject-read", def.SubjectReadLayers, "layers after the local ones that may read the subject from after it (0: all)")
	subjectLocal := flag.Bool("subject-local", def.SubjectLocal, "also penalise the local layers' attention from after the subject to it")
	evalDir := flag.String("eval", "", "only evaluate the checkpoint in this folder")
	checkEvery := flag.Int("check", 250, "print the tutorial metrics every this many steps")
	bench := flag.Int("bench", 0, "only time this many steps and report ms/step")
	flag.Parse()
	if *evalDir != "" {
		m, err := gpt2.LoadDir(*evalDir, gpt2.Options{})
		check(err)
		fmt.Print(evaluate(m, *seed))
		return
	}
	if *out == "" && *bench == 0 {
		fmt.Fprintln(os.Stderr, "retrain: -out is required (e.g. -out shipped/model)")
		os.Exit(2)
	}
	cfg := def
	cfg.Seed, cfg.Steps, cfg.CorpusSize, cfg.Targets = *seed, *steps, *corpus, *targets
	cfg.Adam.LR, cfg.Adam.WarmupSteps, cfg.Negatives = *lr, *warmup, *negatives
	cfg.Adam.TotalSteps = cfg.Steps
	cfg.Model.NLayer, cfg.LocalLayers, cfg.LocalWindow, cfg.LocalWeight = *layers, *local, *window, *localWeight
	cfg.SubjectLocal = *subjectLocal
	cfg.RecencyWeight, cfg.SubjectWeight, cfg.SubjectStrict, cfg.SubjectReadLayers = *recency, *subjectWeight, *subjectStrict, *subjectRead
	cfg.Out = *out
	if *bench > 0 {
		cfg.Steps, cfg.Out = *bench, ""
	}
	var sum strings.Builder
	c := cfg.Model
	fmt.Fprintf(&sum, "- model: GPT-2, %d layers, %d heads, n_embd %d, n_positions %d, vocab %d (GPT-2's tokenizer), %.2fM parameters, activation %s\n",
		c.NLayer, c.NHead, c.NEmbd, c.NPositions, c.VocabSize, float64(c.NumParams())/1e6, c.ActivationFunction)
	fmt.Fprintf(&sum, "- corpus: %d sentences generated with seed %d (retrain.Generate)\n", cfg.CorpusSize, cfg.Seed)
	softmax := "exact full-vocabulary softmax"
	if cfg.Negatives >= 0 {
		n := cfg.Negatives
		if n == 0 {
			n = def.Negatives
		}
		softmax = fmt.Sprintf("sampled softmax over every corpus token plus %d other tokens drawn uniformly per step", n)
	}
	fmt.Fprintf(&sum, "- training: seed %d, %d steps, batches of at most %d sentences x %d tokens and %d next-token targets; %s\n",
		cfg.Seed, cfg.Steps, cfg.Rows, cfg.SeqLen, cfg.Targets, softmax)
	if cfg.LocalLayers > 0 {
		fmt.Fprintf(&sum, "- local attention: an auxiliary loss, %g x the mean attention probability that layers 0-%d put on keys more than %d position(s) before the query (over heads and real query tokens), added to the next-token loss\n",
			cfg.LocalWeight, cfg.LocalLayers-1, cfg.LocalWindow)
	}
	if cfg.SubjectWeight > 0 {
		fmt.Fprintf(&sum, "- subject's last token: an auxiliary loss, %g x the mean attention probability that layers %d-%d put, from the positions after a landmark fact's subject, on the subject's tokens before its last (over heads and those positions), added to the loss\n",
			cfg.SubjectWeight, max(cfg.LocalLayers, 0), cfg.Model.NLayer-1)
		if cfg.SubjectReadLayers > 0 && cfg.LocalLayers+cfg.SubjectReadLayers < cfg.Model.NLayer {
			fmt.Fprintf(&sum, "  (layers %d-%d also pay for that attention on the subject's last token: the subject must have reached the positions after it by layer %d)\n",
				cfg.LocalLayers+cfg.SubjectReadLayers, cfg.Model.NLayer-1, cfg.LocalLayers+cfg.SubjectReadLayers-1)
		}
		if cfg.SubjectLocal && !cfg.SubjectStrict {
			fmt.Fprintf(&sum, "  (layers 0-%d also pay for attention from the positions after the subject to any subject token)\n", cfg.LocalLayers-1)
		}
		if cfg.SubjectStrict {
			fmt.Fprintf(&sum, "  (strict: the same layers also pay for the last subject token's attention to the subject's other tokens, and layers 0-%d for attention from the positions after the subject to any subject token)\n", cfg.LocalLayers-1)
		}
	}
	if cfg.RecencyWeight > 0 {
		fmt.Fprintf(&sum, "- recency: %g x the other layers' mean attention distance (in sequence lengths) added to the loss\n", cfg.RecencyWeight)
	}
	a := cfg.Adam
	fmt.Fprintf(&sum, "- optimizer: govene train.Adam, lr %g, %d warm-up steps then linear decay to 0 at step %d, weight decay %g, gradient clip norm %g\n",
		a.LR, a.WarmupSteps, a.TotalSteps, a.WeightDecay, a.ClipNorm)
	fmt.Print(sum.String())

	// Training is a long run of one compiled step: XLA's CPU plugin, when
	// installed, was 6.5x faster than the pure-Go backend here (TRAINING.md);
	// a step costs about three forward passes.
	var err error
	cfg.Backend, err = backend.For(backend.Workload{Name: "training", Params: int64(c.NumParams()),
		Tokens: 3 * int64(cfg.Steps) * int64(cfg.Rows) * int64(cfg.SeqLen)})
	check(err)
	bar := progress.New(os.Stderr, "training", int64(cfg.Steps), progress.Options{})
	start := time.Now()
	var first, end time.Time
	var checkLine string
	var avg, last, avgFar, avgSubj float64
	cfg.Progress = func(step int, loss, far, subj float64) {
		last, end = loss, time.Now()
		if step == 1 {
			first, avg, avgFar, avgSubj = end, loss, far, subj // step 1 includes compiling the graph
		} else {
			avg = 0.98*avg + 0.02*loss
			avgFar = 0.98*avgFar + 0.02*far
			avgSubj = 0.98*avgSubj + 0.02*subj
		}
		bar.Describe(fmt.Sprintf("training loss %.3f", avg))
		bar.Add(1)
		if *checkEvery > 0 && (step%*checkEvery == 0 || step == cfg.Steps) {
			checkLine = fmt.Sprintf("- step %d (%s): loss %.4f (smoothed %.4f), far attention %.4f", step, time.Since(start).Round(time.Second), loss, avg, avgFar)
			if cfg.SubjectWeight > 0 {
				checkLine += fmt.Sprintf(", subject attention %.4f", avgSubj)
			}
			fmt.Fprintf(os.Stderr, "\n%s\n", checkLine)
		}
	}
	cfg.CheckEvery = *checkEvery
	var curve []string
	cfg.Check = func(step int, m *gpt2.Model) {
		line, err := retrain.Brief(m)
		check(err)
		line += "; patched last token P(Paris) by layer " + lastCurve(m)
		fmt.Fprintf(os.Stderr, "step %d: %s\n", step, line)
		curve = append(curve, checkLine+"; "+line+"\n")
	}
	m, err := retrain.Train(cfg)
	check(err)
	bar.Finish()
	fmt.Fprintf(&sum, "- machine: %s/%s, %d CPUs (shared), backend %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), m.Backend().Name())
	fmt.Fprintf(&sum, "- training time: %s", end.Sub(start).Round(time.Second))
	if cfg.Steps > 1 {
		fmt.Fprintf(&sum, " (%.0f ms/step after the first, compiling step)", float64(end.Sub(first).Milliseconds())/float64(cfg.Steps-1))
	}
	fmt.Fprintf(&sum, "\n- final training loss (sampled softmax): %.4f at the last step, %.4f smoothed (EMA 0.98)\n", last, avg)
	rep := evaluate(m, cfg.Seed)
	if b, err := retrain.Brief(m); err == nil && checkLine != "" {
		curve = append(curve, checkLine+"; "+b+"; patched last token P(Paris) by layer "+lastCurve(m)+"\n")
	}
	fmt.Print(sum.String()[strings.Index(sum.String(), "- machine"):])
	fmt.Print(rep)
	if cfg.Out == "" {
		return
	}
	st, err := os.Stat(filepath.Join(cfg.Out, "model.safetensors"))
	check(err)
	args := strings.Join(os.Args[1:], " ")
	md := fmt.Sprintf(`# The shipped model

A small GPT-2 trained by govene itself (package shipped) so that the tutorials
run offline. It knows only the sentence shapes of its generated corpus:
landmark and country facts, IOI-style name sentences, happy and sad
sentences, and filler.

Command (from the repository root):

    GOEXPERIMENT=simd go run ./shipped/cmd/retrain %s

## Training

%s- model.safetensors: %.1f MB, float16 (converted from the float32 training weights)

The folder is a complete Hugging Face GPT-2 checkpoint (config.json,
model.safetensors, vocab.json, merges.txt): transformers'
GPT2LMHeadModel.from_pretrained and GPT2Tokenizer.from_pretrained load it.

## Learning curve

What the model knew during training (retrain.Brief: the tutorial facts' mean
probability, IOI accuracy on 40 fresh prompts and the two names' probability
mass, mood coherence on 30 prompts), the local blocks' attention outside
their window ("far attention", smoothed), the later blocks' attention from
after a subject to its tokens before the last ("subject attention",
smoothed) and P(" Paris") after patching the
last token's block_output, block by block, from "The Eiffel Tower is in the
city of" into "The Colosseum is in the city of" (retrain.LastTokenCurve):

%s
## Measurements

Probabilities are over the full 50257-token vocabulary, from the float16
checkpoint as gpt2.LoadDir loads it.

%s`, args, sum.String(), float64(st.Size())/1e6, strings.Join(curve, ""), rep)
	check(os.WriteFile(filepath.Join(cfg.Out, "TRAINING.md"), []byte(md), 0o644))
	fmt.Println("wrote", cfg.Out)
}

// evaluate measures the exact loss on fresh sentences and the tutorial
// report.
func evaluate(m *gpt2.Model, seed uint64) string {
	const n = 1000
	loss, err := retrain.ExactLoss(m, seed+1, n)
	check(err)
	rep, err := retrain.Report(m)
	check(err)
	// The causal trace goes before the steering lines.
	at := strings.Index(rep, "- steering")
	if at < 0 {
		at = len(rep)
	}
	rep = rep[:at] + traceReport(m) + rep[at:]
	return fmt.Sprintf("- exact full-vocabulary next-token loss on %d fresh sentences (seed %d): %.4f\n", n, seed+1, loss) + rep
}

// traceReport runs the tracing tutorial's causal trace ("The Space Needle
// is in downtown" -> " Seattle", the subject corrupted) and lists, block by
// block, P(" Seattle") with each token's block_output restored.
func traceReport(m *gpt2.Model) string {
	tr, err := trace.Run(m, sweep.New(m), trace.Config{
		Prompt: "The Space Needle is in downtown", Subject: "Space Needle", Target: " Seattle", Seed: 1})
	check(err)
	var sb strings.Builder
	grid := tr.Grids[0].Result.Values
	subjLast, lastPos := tr.SubjectTo-1, len(tr.Tokens)-1
	fmt.Fprintf(&sb, "- causal trace of %q (subject %q corrupted, noise %.3g): P(%q) clean %.4f, corrupted %.4f\n",
		tr.Prompt, tr.Subject, tr.NoiseLevel, tr.Target, tr.Clean, tr.Corrupted)
	for l := range grid {
		row := make([]string, len(grid[l]))
		for i, v := range grid[l] {
			row[i] = fmt.Sprintf("%q %.3f", tr.Tokens[i], v)
		}
		fmt.Fprintf(&sb, "- trace, block %d output restored: at the last subject token (%q) P(%q) = %.3f, at the last token (%q) %.3f (every token: %s)\n",
			l, tr.Tokens[subjLast], tr.Target, grid[l][subjLast], tr.Tokens[lastPos], grid[l][lastPos], strings.Join(row, ", "))
	}
	return sb.String()
}

// lastCurve formats retrain.LastTokenCurve.
func lastCurve(m *gpt2.Model) string {
	c, err := retrain.LastTokenCurve(m)
	check(err)
	parts := make([]string, len(c))
	for i, v := range c {
		parts[i] = fmt.Sprintf("%.2f", v)
	}
	return strings.Join(parts, " ")
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "retrain:", err)
		os.Exit(1)
	}
}
