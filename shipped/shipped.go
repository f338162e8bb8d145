// Package shipped is the small GPT-2 that govene trains itself and ships, so
// that the tutorials run offline and show meaningful results: 8 layers, 4
// heads, d=128, 64 positions and GPT-2's real 50257-token vocabulary, trained
// on a generated corpus of landmark and country facts ("The Eiffel Tower is
// in the city of Paris"; facts.Landmarks, facts.Countries), IOI-style name
// sentences ("John and Mary went to the store. John gave a drink to Mary";
// facts.Names), happy and sad sentences (facts.HappyWords, facts.SadWords),
// and filler; package shipped/facts holds that taught data without GoMLX. It is not a
// general language model: outside these sentence shapes its predictions mean
// little.
//
// This package only loads the model. The corpus generator, the trainer and
// the evaluation that produced it live in the retrain tool,
// shipped/cmd/retrain (package shipped/internal/retrain).
//
// Its first four blocks were trained to attend only to the previous token
// (an auxiliary attention loss during training), so, as in GPT-2 small, a landmark's city stays
// on the landmark's tokens in the early blocks and reaches the last token
// only in a middle block (facts.MoveLayer); facts.Layer maps GPT-2 small's layer numbers
// onto its blocks.
//
// The checkpoint (float16 weights, Hugging Face layout, loadable by Python
// transformers too) is embedded in the package; Dir writes it to a cache
// folder once and returns it:
//
//	dir, err := shipped.Dir()
//	m, err := gpt2.LoadDir(dir, gpt2.Options{})
//
// Retrain it with `go run ./shipped/cmd/retrain -out shipped/model` (see
// model/TRAINING.md).
package shipped

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/internal/atomicfs"
)

//go:embed model
var modelFS embed.FS

// Files returns the shipped checkpoint's files (config.json,
// model.safetensors, vocab.json, merges.txt, generation_config.json,
// TRAINING.md) at the root of a read-only file system.
func Files() fs.FS {
	sub, err := fs.Sub(modelFS, "model")
	if err != nil {
		panic(err) // "model" is a valid path: cannot happen
	}
	return sub
}

// digest is a hash of the embedded files' names and contents.
var digest = sync.OnceValues(func() (string, error) {
	h := sha256.New()
	names, err := fileNames()
	if err != nil {
		return "", err
	}
	for _, n := range names {
		data, err := fs.ReadFile(Files(), n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
})

func fileNames() ([]string, error) {
	entries, err := fs.ReadDir(Files(), ".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

var dirMu sync.Mutex

// Dir returns a folder holding the shipped checkpoint, ready for
// gpt2.LoadDir: os.UserCacheDir()/govene/shipped-<hash of the files>. The
// first call writes the embedded files there (into a temporary folder
// swapped into place by internal/atomicfs's crash-safe protocol, so a folder
// that exists is complete, and a copy killed half-way is recovered or
// replaced); later calls, in this process or others, reuse it. Nothing is
// written outside that cache folder.
func Dir() (string, error) {
	sum, err := digest()
	if err != nil {
		return "", fmt.Errorf("shipped: %w", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("shipped: no cache folder for the model: %w", err)
	}
	parent := filepath.Join(cache, "govene")
	dir := filepath.Join(parent, "shipped-"+sum)
	dirMu.Lock()
	defer dirMu.Unlock()
	if atomicfs.Recover(dir) == nil && complete(dir) {
		return dir, nil
	}
	names, err := fileNames()
	if err != nil {
		return "", fmt.Errorf("shipped: %w", err)
	}
	// An incomplete folder (damaged, or an interrupted copy by an old
	// version) is replaced as a whole.
	err = atomicfs.ReplaceDir(dir, func(tmp string) error {
		for _, n := range names {
			data, err := fs.ReadFile(Files(), n)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(tmp, n), data, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !complete(dir) { // another process may have put it in place first
		return "", fmt.Errorf("shipped: %w", err)
	}
	return dir, nil
}

// complete reports whether dir holds every embedded file with its size.
func complete(dir string) bool {
	names, err := fileNames()
	if err != nil {
		return false
	}
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			return false
		}
		info, err := fs.Stat(Files(), n)
		if err != nil || info.Size() != st.Size() {
			return false
		}
	}
	return true
}

// Load returns the shipped model, loaded from Dir with opt.
func Load(opt gpt2.Options) (*gpt2.Model, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	return gpt2.LoadDir(dir, opt)
}
