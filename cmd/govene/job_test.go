package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govene/govene/job"
)

// TestJobCommandLine checks govene job's help, and that every bad command
// line exits 2 naming the flag (or the job), and a failing job exits 1.
func TestJobCommandLine(t *testing.T) {
	data := filepath.Join("..", "..", "job", "testdata", "collect.jsonl")
	out := t.TempDir()
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr []string
	}{
		{"no job", []string{"job"}, 2, nil, []string{"usage: govene job collect|patch|iia"}},
		{"-h", []string{"job", "-h"}, 0, []string{"usage: govene job", "-shard-size", "-devices", "resumes a killed"}, nil},
		{"help job", []string{"help", "job"}, 0, []string{"usage: govene job", "-intervenable"}, nil},
		{"kind -h", []string{"job", "iia", "-h"}, 0, []string{"usage: govene job", "-positions"}, nil},
		{"listed in the usage", []string{"-h"}, 0, []string{"govene job collect|patch|iia"}, nil},
		{"unknown job", []string{"job", "train"}, 2, nil, []string{`unknown job "train"; the jobs are: collect, patch, iia`}},
		{"unknown flag", []string{"job", "collect", "-layers", "3"}, 2, nil, []string{"flag provided but not defined: -layers"}},
		{"no -data", []string{"job", "collect", "-out", out, "-sites", "embed"}, 2, nil, []string{"-data is required"}},
		{"no -out", []string{"job", "collect", "-data", data, "-sites", "embed"}, 2, nil, []string{"-out is required"}},
		{"bad site", []string{"job", "collect", "-sites", "embed,blocks.x.mlp_output"}, 2, nil, []string{`invalid value "embed,blocks.x.mlp_output" for flag -sites`}},
		{"bad positions", []string{"job", "collect", "-positions", "first"}, 2, nil, []string{`invalid value "first" for flag -positions`, `want "last" or "all"`}},
		{"zero shard size", []string{"job", "collect", "-shard-size", "0"}, 2, nil, []string{`invalid value "0" for flag -shard-size`}},
		{"huge batch", []string{"job", "collect", "-batch", "100000"}, 2, nil, []string{`invalid value "100000" for flag -batch`, "[1, 4096]"}},
		{"bad device", []string{"job", "collect", "-devices", "0,x"}, 2, nil, []string{`invalid value "0,x" for flag -devices`, `device "x"`}},
		{"repeated device", []string{"job", "collect", "-devices", "1,1"}, 2, nil, []string{"-devices", "device 1 is given twice"}},
		{"stray argument", []string{"job", "collect", "-data", data, "more"}, 2, nil, []string{`unexpected argument "more"`}},
		{"no sites", []string{"job", "collect", "-data", data, "-out", out}, 2, nil, []string{"sites is empty"}},
		{"two patch sites", []string{"job", "patch", "-data", data, "-out", out, "-sites", "embed,pos_embed"}, 2, nil, []string{"exactly one site"}},
		{"missing dataset", []string{"job", "collect", "-data", "no.jsonl", "-out", out, "-sites", "embed"}, 1, nil, []string{"govene: job: dataset: stat no.jsonl"}},
		{"wrong rows for the kind", []string{"job", "iia", "-data", data, "-out", out, "-sites", "embed"}, 1, nil, []string{`collect.jsonl:1: field "base" is missing`}},
		{"site the model lacks", []string{"job", "collect", "-data", data, "-out", t.TempDir(), "-sites", "blocks.99.mlp_output", "-backend", "go"}, 1, nil,
			[]string{"blocks.99.mlp_output", "layer 99 out of range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("govene %q exited %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.code, stdout, stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestJobCollect runs a collect job on the shipped model end to end, then
// again, which keeps every shard.
func TestJobCollect(t *testing.T) {
	out := filepath.Join(t.TempDir(), "acts")
	args := []string{"job", "collect", "-data", filepath.Join("..", "..", "job", "testdata", "collect.jsonl"), "-out", out,
		"-sites", "blocks.3.block_output,head_result.1", "-shard-size", "16", "-batch", "8", "-backend", "go", "-devices", "all"}
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("govene %q exited %d\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
	}
	if want := "collect: 40 rows in 3 shards, " + filepath.Join(out, "manifest.json"); !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout)
	}
	if !strings.Contains(stderr, "job collect") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	m, err := job.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 40 || len(m.Shards) != 3 || len(m.Shards[0].Tensors["blocks.1.head_result"]) != 3 {
		t.Errorf("manifest: %d rows, %d shards, tensors %v", m.Rows, len(m.Shards), m.Shards[0].Tensors)
	}
	for _, sh := range m.Shards {
		if _, err := os.Stat(filepath.Join(out, sh.File)); err != nil {
			t.Error(err)
		}
	}
	code, _, stderr = runCLI(t, args...)
	if code != 0 || !strings.Contains(stderr, "job: kept 3 finished shards of 3") {
		t.Errorf("rerun exited %d, stderr:\n%s", code, stderr)
	}
	// The same folder with another site is another job.
	code, _, stderr = runCLI(t, append(args[:len(args):len(args)], "-sites", "embed")...)
	if code != 1 || !strings.Contains(stderr, "holds another job: its sites is") {
		t.Errorf("another job in the same folder exited %d, stderr:\n%s", code, stderr)
	}
}
