package hub

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pythonDownload is run by the real huggingface_hub: it downloads (or, with
// HF_HUB_OFFLINE=1, looks up) each file and prints {file: path or "ERR ..."}.
const pythonDownload = `
import json, sys
from huggingface_hub import hf_hub_download
out = {}
for f in sys.argv[2:]:
    try:
        out[f] = hf_hub_download(sys.argv[1], f)
    except Exception as e:
        out[f] = "ERR " + type(e).__name__
print(json.dumps(out))
`

// TestPythonInterop checks this package against the real huggingface_hub,
// both ways, through the fake Hub: a cache filled by Python is resolved here
// offline and has the very layout this package writes, and a cache filled
// here is read by Python offline. It runs only when GOVENE_HUB_PYTHON names
// a Python that has huggingface_hub, e.g.
//
//	python3 -m venv /tmp/hubvenv && /tmp/hubvenv/bin/pip install huggingface_hub
//	GOVENE_HUB_PYTHON=/tmp/hubvenv/bin/python go test ./hub/ -run Python
func TestPythonInterop(t *testing.T) {
	python := os.Getenv("GOVENE_HUB_PYTHON")
	if python == "" {
		t.Skip("set GOVENE_HUB_PYTHON to a python with huggingface_hub to run")
	}
	isolateEnv(t)
	f := newFakeHub(t)
	run := func(cache string, offline bool) map[string]string {
		t.Helper()
		return runPython(t, python, f, "gpt2", cache, offline, DefaultFiles)
	}

	// Python downloads, Go resolves offline.
	pyCache := t.TempDir()
	pyPaths := run(pyCache, false)
	t.Logf("python: %v", pyPaths)
	dir, err := Resolve("gpt2", Options{CacheDir: pyCache, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	for file, p := range pyPaths {
		if strings.HasPrefix(p, "ERR ") {
			if file != "tokenizer.json" {
				t.Errorf("python could not download %s: %s", file, p)
			}
			continue
		}
		if want := filepath.Join(dir, file); p != want {
			t.Errorf("python path %s, Go dir gives %s", p, want)
		}
	}

	// Go downloads: same layout as Python's, and Python reads it offline.
	goCache := t.TempDir()
	goDir, err := Download("gpt2", Options{CacheDir: goCache, Endpoint: f.hub.URL, Progress: new(strings.Builder)})
	if err != nil {
		t.Fatal(err)
	}
	pyTree, goTree := cacheTree(t, filepath.Join(pyCache, "models--gpt2")), cacheTree(t, filepath.Join(goCache, "models--gpt2"))
	if !slices.Equal(pyTree, goTree) {
		t.Errorf("cache layouts differ:\npython %q\n    go %q", pyTree, goTree)
	}
	for file, p := range run(goCache, true) {
		if file == "tokenizer.json" {
			continue // Python reports the recorded .no_exist as an error.
		}
		if want := filepath.Join(goDir, file); p != want {
			t.Errorf("python offline on the Go cache: %s -> %s, want %s", file, p, want)
		}
	}
}

// runPython runs pythonDownload on files of repo against the fake Hub f
// with the hub cache at cache (HF_HUB_OFFLINE=1 when offline), and
// returns its output: file -> path, or "ERR <exception>".
func runPython(t *testing.T, python string, f *fakeHub, repo, cache string, offline bool, files []string) map[string]string {
	t.Helper()
	cmd := exec.Command(python, append([]string{"-c", pythonDownload, repo}, files...)...)
	var env []string
	for _, kv := range os.Environ() { // drop the empty HF_* that isolateEnv set: Python chokes on some
		if !strings.HasSuffix(kv, "=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "HF_ENDPOINT="+f.hub.URL, "HF_HUB_CACHE="+cache, "HF_HOME="+t.TempDir(),
		"HF_HUB_DISABLE_XET=1", "HF_HUB_DISABLE_TELEMETRY=1", "HF_HUB_DISABLE_PROGRESS_BARS=1")
	if offline {
		cmd.Env = append(cmd.Env, "HF_HUB_OFFLINE=1")
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, err.(*exec.ExitError).Stderr)
	}
	var paths map[string]string
	if err := json.Unmarshal(out, &paths); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	return paths
}

// TestPythonInteropSharded checks a sharded checkpoint both ways: the
// cache huggingface_hub fills when asked for every default file plus the
// index and its shards (model.safetensors answers 404, as for
// google/gemma-2-2b) is resolved here offline and has the very layout
// ResolveModel writes, and Python finds every file of ResolveModel's cache
// offline. It runs only when GOVENE_HUB_PYTHON is set (see
// TestPythonInterop).
func TestPythonInteropSharded(t *testing.T) {
	python := os.Getenv("GOVENE_HUB_PYTHON")
	if python == "" {
		t.Skip("set GOVENE_HUB_PYTHON to a python with huggingface_hub to run")
	}
	isolateEnv(t)
	f := newFakeHub(t)
	const repo = "acme/sharded"
	f.addRepo(repo, shardedFiles(nil, 61))
	files := append(slices.Clone(DefaultFiles), IndexFile, shard1, shard2)

	pyCache := t.TempDir()
	t.Logf("python: %v", runPython(t, python, f, repo, pyCache, false, files))
	dir, err := ResolveModel(repo, Options{CacheDir: pyCache, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	goCache := t.TempDir()
	goDir, err := ResolveModel(repo, Options{CacheDir: goCache, Endpoint: f.hub.URL, Progress: new(strings.Builder)})
	if err != nil {
		t.Fatal(err)
	}
	folder := RepoFolderName(repo)
	if pyTree, goTree := cacheTree(t, filepath.Join(pyCache, folder)), cacheTree(t, filepath.Join(goCache, folder)); !slices.Equal(pyTree, goTree) {
		t.Errorf("cache layouts differ:\npython %q\n    go %q", pyTree, goTree)
	}
	for file, p := range runPython(t, python, f, repo, goCache, true, files) {
		if _, served := f.repos[repo].files[file]; !served {
			continue // Python reports the recorded .no_exist as an error.
		}
		if want := filepath.Join(goDir, file); p != want {
			t.Errorf("python offline on the Go cache: %s -> %s, want %s", file, p, want)
		}
		if want := filepath.Join(dir, file); strings.Replace(p, goCache, pyCache, 1) != want {
			t.Errorf("python cache path of %s: %s, Go resolved %s", file, p, want)
		}
	}
}
