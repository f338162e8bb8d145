// Command govene is govene's command-line main job.
//
//	govene demo [-model NAME] [-prompt TEXT] [-subject TEXT] [-target TOKEN] [-out DIR]
//
// demo runs causal tracing (ROME) on a model, by default the small GPT-2
// that ships with govene, and writes an HTML report with the next-token
// probability table and the heat maps, printing its path. -model takes a
// folder, a Hugging Face cache name or a Hub name ("gpt2", "gpt2-xl").
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/shipped"
	"github.com/govene/govene/trace"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "demo":
		err = demo(os.Args[2:])
	case "-h", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "govene: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "govene:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: govene demo [-model NAME] [-prompt TEXT] [-subject TEXT] [-target TOKEN] [-out DIR]`)
}

func demo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	model := fs.String("model", "", "checkpoint: a folder, HF cache name or Hub name (default: the model that ships with govene)")
	prompt := fs.String("prompt", "The Space Needle is in downtown", "prompt")
	subject := fs.String("subject", "Space Needle", "the subject in the prompt, whose embeddings are corrupted")
	target := fs.String("target", " Seattle", "the token whose probability is traced (default: the clean top token when empty)")
	out := fs.String("out", "out", "folder for the report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	var m *gpt2.Model
	var err error
	if *model == "" {
		m, err = shipped.Load(gpt2.Options{})
	} else {
		m, err = gpt2.Load(*model)
	}
	if err != nil {
		return err
	}
	fmt.Printf("model: %s (loaded in %s)\n", m, time.Since(start).Round(time.Millisecond))
	p := m.Encode(*prompt)
	r, err := m.Run([]lm.Prompt{p})
	if err != nil {
		return err
	}
	logits, err := r.NextTokenLogits(0)
	if err != nil {
		return err
	}
	top := lm.TopK(lm.Softmax(logits), 5, m.Tokenizer().Token)
	fmt.Printf("prompt: %s\nnext token:\n%s", p, lm.FormatTop(top))
	if *target == "" {
		*target = top[0].Token
	}
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription("tracing"),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	start = time.Now()
	res, err := trace.Run(m, pv.NewSweeper(m), trace.Config{Prompt: *prompt, Subject: *subject, Target: *target, Seed: 1,
		OnProgress: func(c lm.Component, done, total int) {
			bar.ChangeMax(total)
			bar.Describe("tracing " + string(c))
			bar.Set(done)
		}})
	bar.Finish()
	if err != nil {
		return err
	}
	fmt.Printf("causal trace of P(%q): clean %.4f, subject %q corrupted %.4f (%s)\n", *target, res.Clean, *subject, res.Corrupted, time.Since(start).Round(time.Millisecond))
	for _, g := range res.Grids {
		v, row, col := g.Result.Max()
		fmt.Printf("  restoring %-16s peaks at layer %s, token %q: %.4f\n", g.Component, g.Result.Rows[row], res.Tokens[col], v)
	}
	path := filepath.Join(*out, "causal-trace.html")
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := plots.WriteFile(res.Report(), path); err != nil {
		return err
	}
	abs, _ := filepath.Abs(path)
	fmt.Println("report:", abs)
	return nil
}
