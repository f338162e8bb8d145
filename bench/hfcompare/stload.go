package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute"
	ghfst "github.com/gomlx/go-huggingface/models/safetensors"
	"github.com/govene/govene/backend"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/safetensors"
)

// vmHWM is the process's peak resident memory in bytes (Linux), or 0.
func vmHWM() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// makeCheckpoint writes a random GPT-2-small checkpoint (124M parameters,
// float32) into dir unless one is there, and returns the weights' bytes.
func makeCheckpoint(dir string) (int64, error) {
	cfg := gpt2.DefaultConfig()
	weights := int64(cfg.NumParams()) * 4
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		return weights, nil
	}
	m, err := gpt2.Random(cfg, 1, gpt2.Options{})
	if err != nil {
		return 0, err
	}
	return weights, m.Save(dir)
}

// loadResult is one load's measurements, as the child prints them.
type loadResult struct {
	Parse, Load time.Duration
	Added       int64 // VmHWM after minus before
	Tensors     int
}

// childLoad loads the checkpoint in dir with impl and prints a RESULT line
// "ok parse_ns load_ns added_bytes tensors". impl is one of
//
//	govene-file   safetensors.Open, then Float32Into + Release per tensor
//	govene-model  gpt2.LoadDir (weights into the backend's buffers)
//	ghf-host      go-huggingface IterTensorsFromRepo, nil backend (host tensors)
//	ghf-backend   go-huggingface IterTensorsFromRepo on the same backend
func childLoad(impl, dir string) {
	file := filepath.Join(dir, "model.safetensors")
	var keep []any
	var res loadResult
	var err error
	switch impl {
	case "govene-file", "govene-model":
		before := vmHWM()
		start := time.Now()
		if impl == "govene-model" {
			var m *gpt2.Model
			m, err = gpt2.LoadDir(dir, gpt2.Options{})
			res.Load = time.Since(start)
			keep = append(keep, m)
		} else {
			res, keep, err = loadGovene(file)
		}
		res.Added = vmHWM() - before
	case "ghf-host", "ghf-backend":
		res, keep, err = loadGHF(impl == "ghf-backend", file)
	default:
		err = fmt.Errorf("unknown impl %q", impl)
	}
	runtime.KeepAlive(keep)
	if err != nil {
		report(err, "")
		return
	}
	report(nil, fmt.Sprintf("%d %d %d %d", res.Parse, res.Load, res.Added, res.Tensors))
}

func loadGovene(file string) (loadResult, []any, error) {
	var res loadResult
	start := time.Now()
	f, err := safetensors.Open(file)
	if err != nil {
		return res, nil, err
	}
	defer f.Close()
	res.Parse = time.Since(start)
	var keep []any
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		n := 1
		for _, d := range info.Shape {
			n *= d
		}
		buf := make([]float32, n)
		if _, err := f.Float32Into(name, buf); err != nil {
			return res, nil, err
		}
		f.Release(name)
		keep = append(keep, buf)
		res.Tensors++
	}
	res.Load = time.Since(start)
	return res, keep, nil
}

func loadGHF(onBackend bool, file string) (loadResult, []any, error) {
	var res loadResult
	cache, err := os.MkdirTemp("", "hfcompare-ghf")
	if err != nil {
		return res, nil, err
	}
	defer os.RemoveAll(cache)
	abs, _ := filepath.Abs(file)
	repo, stop, err := ghfLocalRepo(cache, map[string]string{"model.safetensors": abs})
	if err != nil {
		return res, nil, err
	}
	defer stop()
	var keep []any
	var be compute.Backend // nil: host tensors
	if onBackend {
		if be, err = backend.Default(); err != nil {
			return res, nil, err
		}
	}
	before := vmHWM()
	start := time.Now()
	if _, err := ghfst.New(repo); err != nil {
		return res, nil, err
	}
	res.Parse = time.Since(start)
	start = time.Now()
	for t, err := range ghfst.IterTensorsFromRepo(be, repo) {
		if err != nil {
			return res, nil, err
		}
		keep = append(keep, t.Tensor)
		res.Tensors++
	}
	res.Load = time.Since(start)
	res.Added = vmHWM() - before
	return res, keep, nil
}
