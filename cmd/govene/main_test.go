package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govene/govene/shipped"
)

// runCLI runs the command line and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestCommandLine checks help, exit codes and the errors that come before
// any tracing: every case names what it must print, where.
func TestCommandLine(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // each must appear in stdout
		stderr     []string // each must appear in stderr
		quietError bool     // stderr must be empty
	}{
		{name: "no arguments", args: nil, code: 2, stderr: []string{"usage:", "govene demo [flags]"}},
		{name: "-h", args: []string{"-h"}, code: 0, quietError: true, stdout: []string{
			"interpretability of language models", "govene demo [flags]", "causal tracing",
			"pure-Go backend", "XLA", "make pjrt-cpu", "GOMLX_BACKEND", "GOVENE_PJRT_PLUGIN", "GOEXPERIMENT=simd", "HF_TOKEN"}},
		{name: "--help", args: []string{"--help"}, code: 0, quietError: true, stdout: []string{"govene demo [flags]"}},
		{name: "help", args: []string{"help"}, code: 0, quietError: true, stdout: []string{"Environment:"}},
		{name: "help demo", args: []string{"help", "demo"}, code: 0, quietError: true, stdout: []string{"usage: govene demo", "-target", "-backend", "-devices all|0,1"}},
		{name: "help of an unknown command", args: []string{"help", "patch"}, code: 2, stderr: []string{`govene: help: unknown command "patch"; the commands are: demo`}},
		{name: "demo -h", args: []string{"demo", "-h"}, code: 0, quietError: true, stdout: []string{
			"usage: govene demo", "Causal tracing (ROME", "-model string", "the model's top next token", `(default "Space Needle")`}},
		{name: "demo --help", args: []string{"demo", "--help"}, code: 0, quietError: true, stdout: []string{"usage: govene demo"}},
		{name: "unknown command", args: []string{"trace"}, code: 2, stderr: []string{`govene: unknown command "trace"; the commands are: demo, help`}},
		{name: "unknown flag", args: []string{"demo", "-layers", "3"}, code: 2, stderr: []string{"flag provided but not defined: -layers", "usage: govene demo"}},
		{name: "flag without value", args: []string{"demo", "-model"}, code: 2, stderr: []string{"flag needs an argument: -model"}},
		{name: "stray argument", args: []string{"demo", "The", "Eiffel"}, code: 2, stderr: []string{`govene demo: unexpected argument "The" (quote a prompt with spaces`}},
		{name: "-prompt without -subject", args: []string{"demo", "-prompt", "The Eiffel Tower is in the city of"}, code: 2,
			stderr: []string{`-prompt "The Eiffel Tower is in the city of" needs -subject`}},
		{name: "missing model folder", args: []string{"demo", "-model", "./no/such/checkpoint"}, code: 1,
			stderr: []string{"govene: -model ./no/such/checkpoint: no such folder (give a checkpoint folder"}},
		{name: "missing absolute folder", args: []string{"demo", "-model", "/no/such"}, code: 1, stderr: []string{"-model /no/such: no such folder"}},
		{name: "missing folder under home", args: []string{"demo", "-model", "~/no-such-govene-checkpoint"}, code: 1, stderr: []string{"no-such-govene-checkpoint: no such folder"}},
		{name: "model is a file", args: []string{"demo", "-model", notDir}, code: 1, stderr: []string{"-model " + notDir + ": not a folder"}},
		{name: "unknown backend", args: []string{"demo", "-backend", "tpu9"}, code: 1, stderr: []string{`unknown backend "tpu9"`}},
		{name: "bad devices", args: []string{"demo", "-devices", "0,x"}, code: 1, stderr: []string{`govene: -devices "0,x": "x" is not a device number`}},
		{name: "device out of range", args: []string{"demo", "-backend", "go", "-devices", "0,5"}, code: 1,
			stderr: []string{"devices: device 5 is out of range: backend", "numbered 0 to 0"}},
		{name: "target without its space", args: []string{"demo", "-target", "Rome"}, code: 1,
			stderr: []string{`govene: -target "Rome" is not a single token, but " Rome" is`, `use -target " Rome"`}},
		{name: "target of two tokens", args: []string{"demo", "-target", " Seattle Washington"}, code: 1,
			stderr: []string{`-target " Seattle Washington" is not a single token: it is 2 tokens [" Seattle" " Washington"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("govene %q exited %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("govene %q: stdout lacks %q:\n%s", tt.args, want, stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("govene %q: stderr lacks %q:\n%s", tt.args, want, stderr)
				}
			}
			if tt.quietError && stderr != "" {
				t.Errorf("govene %q wrote to stderr: %s", tt.args, stderr)
			}
		})
	}
}

// TestDemo runs the demo end to end on the shipped model, writing its
// report into a temporary folder.
func TestDemo(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdout   []string
		stderr   []string
		noStderr []string
	}{
		{
			name: "defaults: the top token is the target",
			stdout: []string{`target: " Seattle", the top next token`, `causal trace of P(" Seattle"): clean 0.99`,
				`restoring block_output     peaks at layer`},
			stderr:   []string{"tracing: started", "done"},
			noStderr: []string{"warning"},
		},
		{
			name:     "another prompt: the target follows it",
			args:     []string{"-prompt", "The Eiffel Tower is in the city of", "-subject", "Eiffel Tower"},
			stdout:   []string{`target: " Paris", the top next token`, `causal trace of P(" Paris"): clean 0.9`},
			noStderr: []string{"warning"},
		},
		{
			name:   "an unlikely target warns and names the top token",
			args:   []string{"-prompt", "The Eiffel Tower is in the city of", "-subject", "Eiffel Tower", "-target", " Seattle"},
			stdout: []string{`causal trace of P(" Seattle"): clean 0.00`},
			stderr: []string{`govene: warning: -target " Seattle" has probability`, `the model predicts " Paris" (0.9`, `try -target " Paris"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report")
			code, stdout, stderr := runCLI(t, append(append([]string{"demo"}, tt.args...), "-out", out)...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			path := filepath.Join(out, "causal-trace.html")
			for _, want := range append(tt.stdout, fmt.Sprintf("model: GPT-2 %d layers", shipped.DefaultModel().NLayer), "report: "+path) {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			for _, bad := range tt.noStderr {
				if strings.Contains(stderr, bad) {
					t.Errorf("stderr has %q:\n%s", bad, stderr)
				}
			}
			// Not a terminal: the progress is a few lines, not one per step.
			if n := strings.Count(stderr, "tracing"); n > 12 {
				t.Errorf("%d progress lines on stderr, want at most 12:\n%s", n, stderr)
			}
			report, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("no report: %v", err)
			}
			for _, want := range []string{"<html", "block_output", "mlp_output", "attention_output"} {
				if !bytes.Contains(report, []byte(want)) {
					t.Errorf("report %s lacks %q", path, want)
				}
			}
		})
	}
}

func TestLooksLikePath(t *testing.T) {
	for name, want := range map[string]bool{
		"gpt2": false, "openai-community/gpt2": false, "gpt2-xl": false,
		"./ckpt": true, "../ckpt": true, "/abs/ckpt": true, "~/ckpt": true, "ckpt/": true, "a/b/c": true, ".": true,
	} {
		if got := looksLikePath(name); got != want {
			t.Errorf("looksLikePath(%q) = %v, want %v", name, got, want)
		}
	}
}
