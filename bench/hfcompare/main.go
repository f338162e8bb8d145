// Command hfcompare measures govene's hub, safetensors and bpe packages
// against github.com/gomlx/go-huggingface on the same inputs, and prints
// Markdown tables: tokenization exactness and speed (GPT-2 fixtures of
// bpe/testdata, other families from testdata/), safetensors parse + load
// time and peak memory on a random GPT-2-small checkpoint (each load in a
// fresh process, peak from /proc/self/status VmHWM), which hostile files
// each library refuses, and Hub cache behaviour against a local fake Hub.
// Every case that could hang or crash runs in a subprocess with a time
// limit, so a hang is reported, not suffered.
//
// Run it with bench/hfcompare/run.sh from the repository root.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		child(os.Args[2:])
		return
	}
	root := flag.String("root", "../..", "the govene repository root")
	only := flag.String("only", "tok,families,load,hostile,hub", "comma-separated sections")
	ckpt := flag.String("checkpoint", filepath.Join(os.TempDir(), "hfcompare-gpt2-small"), "random GPT-2-small checkpoint folder (made when missing)")
	reps := flag.Int("reps", 3, "loads per library (each in a fresh process); the table shows the fastest and the largest peak")
	flag.DurationVar(&childTimeout, "timeout", childTimeout, "time limit for each subprocess")
	flag.Parse()
	sections := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		sections[strings.TrimSpace(s)] = true
	}
	steps := []struct {
		name string
		run  func() error
	}{
		{"tok", func() error { return tokSection(*root) }},
		{"families", func() error { return familySection() }},
		{"load", func() error { return loadSection(*ckpt, *reps) }},
		{"hostile", hostileSection},
		{"hub", hubSection},
	}
	failed := false
	for _, s := range steps {
		if sections[s.name] {
			if err := s.run(); err != nil {
				fmt.Fprintf(os.Stderr, "hfcompare: %s: %v\n", s.name, err)
				failed = true
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}

func child(args []string) {
	if len(args) < 3 {
		fmt.Println("RESULT rejected child needs: kind impl arg")
		return
	}
	switch args[0] {
	case "load":
		childLoad(args[1], args[2])
	case "sthostile":
		childSTHostile(args[1], args[2])
	case "tokhostile":
		childTokHostile(args[1], args[2])
	case "hub":
		childHub(args[1], args[2])
	default:
		fmt.Printf("RESULT rejected unknown child kind %q\n", args[0])
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func tokSection(root string) error {
	tj := filepath.Join(root, "gpt2", "testdata", "tiny-vocab", "tokenizer.json")
	gov, ghf, govErr, ghfErr, govLoad, ghfLoad := loadEncoders(tj)
	if govErr != nil || ghfErr != nil {
		return fmt.Errorf("GPT-2 tokenizer.json: govene: %v; go-huggingface: %v", govErr, ghfErr)
	}
	cases, err := readCases(filepath.Join(root, "bpe", "testdata", "hf_tokens.json"))
	if err != nil {
		return err
	}
	paras, size := corpus(root)
	fmt.Printf("\n### GPT-2 tokenizer (%s)\n\n", tj)
	fmt.Printf("Fixtures: %d texts of bpe/testdata/hf_tokens.json (ids from HF tokenizers). Speed: %d paragraphs, %.0f kB, of the repository's Markdown; cold = first pass of a fresh tokenizer, warm = best of 3 more.\n\n", len(cases), len(paras), float64(size)/1e3)
	fmt.Println("| library | load tokenizer.json | fixtures exact | cold | warm | warm MB/s | paragraphs equal to govene |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, e := range []*struct {
		enc  *encoder
		load time.Duration
	}{{gov, govLoad}, {ghf, ghfLoad}} {
		n, bad := exactness(e.enc, cases)
		cold, warm, tokens := speed(e.enc, paras)
		agree := agreement(gov, e.enc, paras)
		note := ""
		if len(bad) > 0 {
			note = " (first misses: " + strings.Join(bad, ", ") + ")"
		}
		fmt.Printf("| %s | %s | %d/%d%s | %s | %s | %.2f | %d/%d (%d tokens) |\n", e.enc.name, ms(e.load), n, len(cases), note,
			ms(cold), ms(warm), float64(size)/warm.Seconds()/1e6, agree, len(paras), tokens)
	}
	return nil
}

func familySection() error {
	fmt.Println("\n### tokenizer.json of other families (testdata/*.tokenizer.json, ids from HF tokenizers)")
	fmt.Println()
	fmt.Println("| family | govene bpe | go-huggingface hftokenizer |")
	fmt.Println("|---|---|---|")
	for _, fam := range []string{"neox", "llama3", "qwen2", "llama2", "gemma"} {
		cases, err := readCases(filepath.Join("testdata", fam+".cases.json"))
		if err != nil {
			return err
		}
		gov, ghf, govErr, ghfErr, _, _ := loadEncoders(filepath.Join("testdata", fam+".tokenizer.json"))
		cell := func(e *encoder, err error) string {
			if err != nil {
				return "refused: " + truncate(oneLine(err.Error()), 90)
			}
			n, bad := exactness(e, cases)
			s := fmt.Sprintf("%d/%d exact", n, len(cases))
			if len(bad) > 0 {
				s += " (misses " + strings.Join(bad, ", ") + ")"
			}
			return s
		}
		fmt.Printf("| %s | %s | %s |\n", fam, cell(gov, govErr), cell(ghf, ghfErr))
	}
	return nil
}

func loadSection(dir string, reps int) error {
	weights, err := makeCheckpoint(dir)
	if err != nil {
		return fmt.Errorf("make checkpoint in %s: %w", dir, err)
	}
	fmt.Printf("\n### safetensors load: random GPT-2 small (%s, %.0f MB of float32 weights), each load in a fresh process, best of %d\n\n", dir, float64(weights)/1e6, reps)
	fmt.Println("| what | parse (header) | parse + load | peak RSS added | / weights |")
	fmt.Println("|---|---|---|---|---|")
	impls := []struct{ impl, desc string }{
		{"govene-file", "govene safetensors: Open + Float32Into + Release per tensor (host []float32)"},
		{"govene-model", "govene gpt2.LoadDir (config checks, weights into backend buffers)"},
		{"ghf-host", "go-huggingface IterTensorsFromRepo, host tensors"},
		{"ghf-backend", "go-huggingface IterTensorsFromRepo, onto the backend"},
	}
	for _, im := range impls {
		var best loadResult
		var worstAdded int64
		var failure string
		for i := range reps {
			o := runChild(nil, "load", im.impl, dir)
			if o.Kind != "ok" {
				failure = o.String()
				break
			}
			f := strings.Fields(o.Detail)
			var r loadResult
			p, _ := strconv.ParseInt(f[0], 10, 64)
			l, _ := strconv.ParseInt(f[1], 10, 64)
			r.Parse, r.Load = time.Duration(p), time.Duration(l)
			r.Added, _ = strconv.ParseInt(f[2], 10, 64)
			if i == 0 || r.Load < best.Load {
				best = r
			}
			worstAdded = max(worstAdded, r.Added)
		}
		if failure != "" {
			fmt.Printf("| %s | %s | | | |\n", im.desc, failure)
			continue
		}
		parse := ms(best.Parse)
		if best.Parse == 0 {
			parse = "(inside load)"
		}
		fmt.Printf("| %s | %s | %s | %.0f MB | %.2fx |\n", im.desc, parse, ms(best.Load), float64(worstAdded)/1e6, float64(worstAdded)/float64(weights))
	}
	return nil
}

func verdict(c hostileCase, o outcome) string {
	right := (o.Kind == "ok") == c.Accept && (o.Kind == "ok" || o.Kind == "rejected")
	mark := "✗"
	if right {
		mark = "✓"
	}
	return mark + " " + truncate(o.String(), 100)
}

func hostileSection() error {
	dir, err := os.MkdirTemp("", "hfcompare-hostile")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, part := range []struct {
		title, kind string
		make        func(string) ([]hostileCase, error)
	}{
		{"safetensors files (read every tensor)", "sthostile", safetensorsCases},
		{"tokenizer.json files (load, encode one word)", "tokhostile", tokenizerCases},
	} {
		sub := filepath.Join(dir, part.kind)
		if err := os.Mkdir(sub, 0o755); err != nil {
			return err
		}
		cases, err := part.make(sub)
		if err != nil {
			return err
		}
		fmt.Printf("\n### hostile %s; ✓ = refused with an error (or accepted, when valid), each in a subprocess with a %s limit\n\n", part.title, childTimeout)
		fmt.Println("| case | govene | go-huggingface |")
		fmt.Println("|---|---|---|")
		for _, c := range cases {
			fmt.Printf("| %s | %s | %s |\n", c.Name, verdict(c, runChild(nil, part.kind, "govene", c.Path)), verdict(c, runChild(nil, part.kind, "ghf", c.Path)))
		}
	}
	return nil
}

func hubSection() error {
	fmt.Println("\n### Hub download and cache, against a local fake Hub (1 MiB model.safetensors + config.json)")
	fmt.Println()
	fmt.Println("| case | govene hub | go-huggingface hub |")
	fmt.Println("|---|---|---|")
	cases := []struct{ name, want string }{
		{"download", "ok"},
		{"corrupt", "rejected"},
		{"truncate", "rejected"},
		{"offline-after-download", "ok"},
		{"HF_HUB_OFFLINE", "ok"},
		{"python-cache", "ok"},
	}
	for _, c := range cases {
		cell := func(impl string) string {
			o := runChild(nil, "hub", impl, c.name)
			mark := "✗"
			if o.Kind == c.want {
				mark = "✓"
			}
			return mark + " " + truncate(o.String(), 120)
		}
		fmt.Printf("| %s | %s | %s |\n", c.name, cell("govene"), cell("ghf"))
	}
	return nil
}
