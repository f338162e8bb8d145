// Command govene is govene's command-line main job.
//
//	govene demo [-model NAME] [-prompt TEXT -subject TEXT] [-target TOKEN] [-out DIR] [-backend NAME]
//	govene session serve|ls|stop [flags]
//	govene job collect|patch|iia -data FILE.jsonl -out DIR [flags]
//	govene help [demo|session|job]
//
// demo runs causal tracing (ROME) on a model, by default the small GPT-2
// that ships with govene, and writes an HTML report with the next-token
// probability table and the heat maps, printing its path. -model takes a
// folder, a Hugging Face cache name or a Hub name ("gpt2", "gpt2-xl").
// `govene -h` lists the commands, backends and environment variables.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/bpe"
	"github.com/govene/govene/hub"
	"github.com/govene/govene/internal/progress"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/shipped"
	"github.com/govene/govene/sweep"
	"github.com/govene/govene/trace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // bad command line
)

const usageText = `govene: intervention-based interpretability of language models in Go
(activation patching, causal tracing, steering, DAS; pyvene in Go, on GoMLX).

usage:
  govene demo [flags]   causal tracing (ROME) of a fact on a model, written as an
                        HTML report with heat maps; default: "The Space Needle is
                        in downtown" -> " Seattle" on the small GPT-2 that ships
                        with govene (no download)
  govene session serve|ls|stop
                        a long-lived session that keeps models and compiled
                        graphs between notebook cells, locally or on a GPU
                        server (govene session -h says more)
  govene job collect|patch|iia -data FILE.jsonl|FILE.parquet -out DIR [flags]
                        a job over a JSONL or Parquet dataset: activations at
                        sites, activation patching or IIA, written as safetensors
                        shards with a manifest; resumable after a kill, split
                        across devices (govene job -h says more)
  govene help [demo|session|job]
                        this help, or a command's flags

Run "govene demo -h" for demo's flags. Examples:
  govene demo
  govene demo -model gpt2 -prompt "The Eiffel Tower is in the city of" -subject "Eiffel Tower"

Backends: the pure-Go backend (always there) or XLA through a PJRT plugin: the
CPU plugin that "make pjrt-cpu" installs in ~/.local/share/govene, or CUDA/TPU.
govene picks the pure-Go backend for small jobs (the shipped model, one-off
calls), where XLA's compile (seconds per graph) costs more than it saves, and
XLA's CPU plugin, when installed, for large models and long sweeps; it prints
one line saying which and why. -backend or GOMLX_BACKEND overrides the choice.

Environment:
  GOMLX_BACKEND        go, xla (the installed CPU plugin), xla:cuda,
                       xla:/abs/path/pjrt_plugin.so, or auto (the default)
  GOVENE_PJRT_PLUGIN   an XLA PJRT CPU plugin (.so) to use instead of the installed one
  GOEXPERIMENT=simd    needed at build time (go build/run/test) for the pure-Go
                       backend's SIMD matmul; without it govene warns and runs slower
  HF_HOME, HF_HUB_CACHE, HF_TOKEN, HF_ENDPOINT, HF_HUB_OFFLINE
                       the Hugging Face cache, token, mirror and offline mode
                       used to find or download -model
`

// run is the command line: it parses args (without the program name),
// writes results to stdout and messages to stderr, and returns the exit
// code: 0 on success (and for help), 1 when the command failed, 2 for a bad
// command line.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			if args[1] == "demo" {
				return demoMain([]string{"-h"}, stdout, stderr)
			}
			if args[1] == "session" {
				return sessionMain([]string{"-h"}, stdout, stderr)
			}
			if args[1] == "job" {
				return jobMain([]string{"-h"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "govene: help: unknown command %q; the commands are: demo, job, session\n", args[1])
			return exitUsage
		}
		fmt.Fprint(stdout, usageText)
		return exitOK
	case "demo":
		return demoMain(args[1:], stdout, stderr)
	case "session":
		return sessionMain(args[1:], stdout, stderr)
	case "job":
		return jobMain(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "govene: unknown command %q; the commands are: demo, help, job, session (govene -h says more)\n", args[0])
	return exitUsage
}

// Defaults of demo's flags.
const (
	defaultPrompt  = "The Space Needle is in downtown"
	defaultSubject = "Space Needle"
)

// minTargetProb is the clean probability under which demo warns that the
// target is not what the model predicts (its trace is then near zero).
const minTargetProb = 0.01

type demoFlags struct {
	model, prompt, subject, target, out, backend, devices string
}

// devicesUsage is the -devices flag's help, for demo and session serve.
const devicesUsage = lm.DevicesUsage

func demoMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	// The flag package prints usage (and errors) while parsing; -h's usage
	// goes to stdout, the rest to stderr.
	var f demoFlags
	fs.StringVar(&f.model, "model", "", "checkpoint: a folder, a Hugging Face cache name or a Hub name such as gpt2 (default: the small GPT-2 that ships with govene)")
	fs.StringVar(&f.prompt, "prompt", defaultPrompt, "the prompt stating the fact")
	fs.StringVar(&f.subject, "subject", defaultSubject, "the subject: words of the prompt whose embeddings are corrupted (give it with -prompt)")
	fs.StringVar(&f.target, "target", "", "the token whose probability is traced, with its leading space (\" Paris\"); default: the model's top next token on the prompt")
	fs.StringVar(&f.out, "out", "out", "folder for the report (causal-trace.html)")
	fs.StringVar(&f.backend, "backend", "", "go, xla (the installed CPU plugin), xla:cuda, xla:/abs/path/plugin.so or auto (default: GOMLX_BACKEND, else chosen by the model's size)")
	fs.StringVar(&f.devices, "devices", "", devicesUsage)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: govene demo [-model NAME] [-prompt TEXT -subject TEXT] [-target TOKEN] [-out DIR] [-backend NAME] [-devices all|0,1]

Causal tracing (ROME, Meng et al. 2022): runs the prompt with noise on the
subject's embeddings, restores one layer and position at a time, and writes
a report with the next-token table and heat maps for the residual stream,
the MLPs and attention: where the model recalls the fact.

flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stdout, stderr, "govene demo", ` (quote a prompt with spaces: -prompt "...")`); !ok {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["prompt"] && !set["subject"] && !strings.Contains(f.prompt, f.subject) {
		fmt.Fprintf(stderr, "govene demo: -prompt %q needs -subject: the words of the prompt whose embeddings are corrupted (for example -subject \"Eiffel Tower\")\n", f.prompt)
		return exitUsage
	}
	backend.SetReport(stderr)
	if err := demo(f, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "govene:", err)
		return exitError
	}
	return exitOK
}

// looksLikePath says whether a -model value is meant as a folder rather
// than a Hub name: it starts with "/", "." or "~", ends with "/", or has
// more than one "/" (Hub names are "name" or "org/name").
func looksLikePath(name string) bool {
	return strings.HasPrefix(name, "/") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~") ||
		strings.HasSuffix(name, "/") || strings.Count(name, "/") > 1 || filepath.IsAbs(name)
}

// modelDir returns the checkpoint folder for -model ("" for the shipped
// model), resolving Hub and cache names (downloading when needed).
func modelDir(model string, stderr io.Writer) (string, error) {
	if model == "" {
		return shipped.Dir()
	}
	if strings.HasPrefix(model, "~/") || model == "~" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("-model %s: %w", model, err)
		}
		model = filepath.Join(home, strings.TrimPrefix(model, "~"))
	}
	if looksLikePath(model) {
		st, err := os.Stat(model)
		switch {
		case err != nil && errors.Is(err, os.ErrNotExist):
			return "", fmt.Errorf("-model %s: no such folder (give a checkpoint folder holding config.json and model.safetensors, a Hugging Face cache name or a Hub name such as gpt2)", model)
		case err != nil:
			return "", fmt.Errorf("-model %s: %w", model, err)
		case !st.IsDir():
			return "", fmt.Errorf("-model %s: not a folder (give the checkpoint folder holding config.json and model.safetensors)", model)
		}
		return model, nil
	}
	dir, err := hub.ResolveModel(model, hub.Options{Progress: stderr})
	if err != nil {
		if strings.Contains(model, "/") {
			if _, serr := os.Stat(model); serr != nil {
				return "", fmt.Errorf("-model %s: not a folder here, and as a Hub name: %w", model, err)
			}
		}
		return "", fmt.Errorf("-model %s: %w", model, err)
	}
	return dir, nil
}

// traceWorkload estimates the causal trace's size for the backend choice:
// a clean and a corrupted run, then one restored run per component
// (residual, MLP, attention), layer and position, each over the prompt
// (its length counted with GPT-2's tokenizer, an estimate for other
// families). The loader fills in Params from the checkpoint.
func traceWorkload(layers int, prompt string) backend.Workload {
	n := int64(max(1, len(bpe.GPT2().Encode(prompt))))
	return backend.Workload{Name: "causal trace", Tokens: n * (2 + 3*int64(max(layers, 1))*n)}
}

// checkTarget returns an error when target is not one token of m's
// vocabulary, suggesting the leading-space form when that is one token.
func checkTarget(m models.Model, target string) error {
	if _, ok := m.TokenID(target); ok {
		return nil
	}
	if !strings.HasPrefix(target, " ") {
		if _, ok := m.TokenID(" " + target); ok {
			return fmt.Errorf("-target %q is not a single token, but %q is: words after another word start with a space in the model's vocabulary; use -target %q", target, " "+target, " "+target)
		}
	}
	return fmt.Errorf("-target %q is not a single token: it is %d tokens %q; give one token, such as the first, or leave -target empty for the model's top prediction", target, len(m.Encode(target).Tokens), m.Encode(target).Tokens)
}

func demo(f demoFlags, stdout, stderr io.Writer) error {
	start := time.Now()
	dir, err := modelDir(f.model, stderr)
	if err != nil {
		return err
	}
	info, err := models.ReadInfo(dir)
	if err != nil {
		return fmt.Errorf("-model %s: %w", f.model, err)
	}
	w := traceWorkload(info.Layers, f.prompt)
	w.Backend = f.backend
	devices, err := lm.ParseDevices(f.devices)
	if err != nil {
		return fmt.Errorf("-%w", err)
	}
	m, err := models.Load(dir, models.Options{Workload: w, Hub: hub.Options{Progress: stderr}, Devices: devices})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model: %s (loaded in %s)\n", m, time.Since(start).Round(time.Millisecond))
	if err := models.CheckText(m); err != nil {
		return fmt.Errorf("-model %s: %w", f.model, err)
	}
	if f.target != "" {
		if err := checkTarget(m, f.target); err != nil {
			return err
		}
	}
	p := m.Encode(f.prompt)
	r, err := m.Run([]lm.Prompt{p})
	if err != nil {
		return err
	}
	logits, err := r.NextTokenLogits(0)
	if err != nil {
		return err
	}
	probs := lm.Softmax(logits)
	top := lm.TopK(probs, 5, m.TokenString)
	fmt.Fprintf(stdout, "prompt: %s\nnext token:\n%s", p, lm.FormatTop(top))
	if f.target == "" {
		f.target = top[0].Token
		fmt.Fprintf(stdout, "target: %q, the top next token (-target chooses another)\n", f.target)
	} else if id, _ := m.TokenID(f.target); float64(probs[id]) < minTargetProb {
		fmt.Fprintf(stderr, "govene: warning: -target %q has probability %.2g on the clean prompt (< %g): its trace will be near zero everywhere; the model predicts %q (%.3f): try -target %q, or leave -target empty\n",
			f.target, probs[id], minTargetProb, top[0].Token, top[0].Prob, top[0].Token)
	}
	bar := progress.New(stderr, "tracing", 0, progress.Options{Clear: true})
	components := map[lm.Component]int{lm.BlockOutput: 0, lm.MLPOutput: 1, lm.AttentionOutput: 2}
	start = time.Now()
	res, err := trace.Run(m, sweep.New(m), trace.Config{Prompt: f.prompt, Subject: f.subject, Target: f.target, Seed: 1},
		trace.OnProgress(func(c lm.Component, done, total int) {
			// One bar over the three grids, which have the same size.
			bar.SetTotal(int64(len(components) * total))
			bar.Describe("tracing " + string(c))
			bar.Set(int64(components[c]*total + done))
		}))
	if err != nil {
		bar.Abandon()
		return err
	}
	bar.Finish()
	fmt.Fprintf(stdout, "causal trace of P(%q): clean %.4f, subject %q corrupted %.4f (%s)\n", f.target, res.Clean, f.subject, res.Corrupted, time.Since(start).Round(time.Millisecond))
	for _, g := range res.Grids {
		v, row, col := g.Result.Max()
		fmt.Fprintf(stdout, "  restoring %-16s peaks at layer %s, token %q: %.4f\n", g.Component, g.Result.Rows[row], res.Tokens[col], v)
	}
	path := filepath.Join(f.out, "causal-trace.html")
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("-out %s: %w", f.out, err)
	}
	if err := plots.WriteFile(res.Report(), path); err != nil {
		return fmt.Errorf("-out %s: %w", f.out, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	fmt.Fprintln(stdout, "report:", abs)
	return nil
}

// parseFlags parses a command's flags: -h's usage goes to stdout, a bad
// flag's error and usage to stderr, and a stray argument is an error naming
// it, prefixed by cmd ("govene demo") and followed by hint. ok false: the
// command returns code.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, cmd, hint string) (code int, ok bool) {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = stdout.Write(out.Bytes())
		return exitOK, false
	}
	_, _ = stderr.Write(out.Bytes())
	if err != nil {
		return exitUsage, false // the flag package printed the error and usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q%s\n", cmd, fs.Arg(0), hint)
		return exitUsage, false
	}
	return 0, true
}
