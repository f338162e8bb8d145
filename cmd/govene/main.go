// Command govene is govene's command-line main job.
//
//	govene demo [-model NAME] [-prompt TEXT] [-k N]
//
// demo loads a model (a folder, a Hugging Face cache name or a Hub name; by
// default a randomly initialized GPT-2-small-shaped model, since no GPT-2
// weights ship with govene) and prints the next-token probabilities for a
// prompt.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
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
	fmt.Fprintln(os.Stderr, `usage: govene demo [-model NAME] [-prompt TEXT] [-k N]`)
}

func demo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	model := fs.String("model", "", "checkpoint: a folder, HF cache name or Hub name (default: random GPT-2-small-shaped weights)")
	prompt := fs.String("prompt", "The Eiffel Tower is in the city of", "prompt")
	k := fs.Int("k", 10, "how many next tokens to show")
	seed := fs.Uint64("seed", 1, "seed of the random weights")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	var m *gpt2.Model
	var err error
	if *model == "" {
		m, err = gpt2.Random(gpt2.DefaultConfig(), *seed, gpt2.Options{})
	} else {
		m, err = gpt2.Load(*model)
	}
	if err != nil {
		return err
	}
	fmt.Printf("model: %s (loaded in %s)\n", m, time.Since(start).Round(time.Millisecond))
	if *model == "" {
		fmt.Println("note: these weights are random, so the probabilities below are meaningless; pass -model gpt2 (or a folder) for a real checkpoint")
	}
	p := m.Encode(*prompt)
	fmt.Printf("prompt: %s (%d tokens)\n", p, p.Len())
	start = time.Now()
	r, err := m.Run([]lm.Prompt{p})
	if err != nil {
		return err
	}
	first := time.Since(start)
	start = time.Now()
	if r, err = m.Run([]lm.Prompt{p}); err != nil {
		return err
	}
	logits, err := r.NextTokenLogits(0)
	if err != nil {
		return err
	}
	fmt.Printf("forward: first call %s (includes compiling), second %s\n",
		first.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	fmt.Printf("next-token probabilities after %q:\n", *prompt)
	fmt.Print(lm.FormatTop(lm.TopK(lm.Softmax(logits), *k, m.Tokenizer().Token)))
	return nil
}
