package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/job"
)

const jobUsage = `usage: govene job collect|patch|iia -data FILE.jsonl|FILE.parquet -out DIR [flags]

Runs a job over a dataset of examples: a JSONL or Parquet file (-data; a name
ending in .parquet is read as Parquet). JSONL has one JSON object per line
(blank lines skipped); Parquet has the same fields as columns (strings, lists
of strings, lists of integers of any width; nullable; other columns ignored).
It writes shards of -shard-size examples to DIR as safetensors files,
each with a JSON sidecar, and manifest.json when every shard is done.
Rerunning the same command resumes a killed or failed job: finished shards
are verified (sha256) and kept, the others computed again. Progress goes to
stderr.

  collect  {"text": "..."} or {"ids": [...]}: the values at -sites, at the last
           position ([rows, d...] per site) or at all positions (-positions all:
           [tokens, d...] per site and offsets [rows+1]); row [rows] is each
           example's 0-based line index (Parquet: row index)
  patch    {"base": "...", "source": "...", "targets": [" Paris", ...]}: the
           source's value at the one site (or -intervenable) interchanged into
           the base at the last token; original_top, patched_top [rows] and,
           with targets, original_logprob, patched_logprob [rows, targets]
  iia      {"base": "...", "sources": ["..."], "label": " Rome"}: predicted,
           label [rows], correct [rows] and the manifest's summary.iia, with a
           vanilla interchange at the one site or a pv.Save folder
           (-intervenable)

Example:
  govene job collect -data prompts.jsonl -out acts -sites blocks.3.block_output,blocks.5.mlp_output

flags:
`

// jobMain runs `govene job collect|patch|iia`.
func jobMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, jobUsage)
		return exitUsage
	}
	kind := args[0]
	switch kind {
	case "-h", "-help", "--help", "help":
		fs := jobFlags(new(job.Spec))
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, jobUsage)
		fs.PrintDefaults()
		return exitOK
	}
	if !slices.Contains(job.Kinds, kind) {
		fmt.Fprintf(stderr, "govene job: unknown job %q; the jobs are: %s (govene job -h says more)\n", kind, strings.Join(job.Kinds, ", "))
		return exitUsage
	}
	spec := job.Spec{Kind: kind}
	fs := jobFlags(&spec)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), jobUsage)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args[1:], stdout, stderr, "govene job "+kind, " (flags go after the job's name)"); !ok {
		return code
	}
	for _, f := range []struct{ name, value string }{{"data", spec.Dataset}, {"out", spec.Out}} {
		if f.value == "" {
			fmt.Fprintf(stderr, "govene job %s: -%s is required\n", kind, f.name)
			return exitUsage
		}
	}
	if err := spec.Validate(); err != nil {
		fmt.Fprintf(stderr, "govene job %s: %v\n", kind, err)
		return exitUsage
	}
	backend.SetReport(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m, err := job.Run(ctx, spec, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "govene:", err)
		return exitError
	}
	fmt.Fprintf(stdout, "%s: %d rows in %d shards, %s\n", kind, m.Rows, len(m.Shards), filepath.Join(spec.Out, job.ManifestFile))
	switch kind {
	case job.IIA:
		fmt.Fprintf(stdout, "IIA: %.4f (%v of %v)\n", m.Summary["iia"], m.Summary["correct"], m.Summary["total"])
	case job.Patch:
		fmt.Fprintf(stdout, "the patch changed the top token of %v of %v rows\n", m.Summary["changed"], m.Summary["total"])
	}
	return exitOK
}

// jobFlags returns the flag set of govene job, writing into spec.
func jobFlags(spec *job.Spec) *flag.FlagSet {
	fs := flag.NewFlagSet("job", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	job.BindFlags(fs, spec)
	return fs
}
