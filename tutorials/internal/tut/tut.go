// Package tut holds what the tutorial programs share: choosing the model
// (the shipped one by default), scaling GPT-2 small's layer numbers to it,
// and showing results in a notebook or writing them to files in an output
// folder (never the working directory).
package tut

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/nb"
	"github.com/govene/govene/plots"
)

// ModelEnv names an environment variable that overrides the default model
// of every tutorial and notebook (a folder, an HF cache name or a Hub
// name).
const ModelEnv = models.Env

// Model loads the model a tutorial runs on: name if set (a checkpoint
// folder of any family models.Load supports, an HF cache name or a Hub
// name), else $GOVENE_MODEL, else the small GPT-2 that ships with govene,
// for a small workload (the pure-Go backend).
func Model(name string) (models.Model, error) {
	return ModelFor(name, backend.Workload{})
}

// ModelFor is Model on the backend that backend.For picks for the work w
// (its Params is filled in from the checkpoint): the pure-Go backend for the
// small work of most tutorials, XLA's CPU plugin, when installed, for
// training. It returns the loader's error for a model that cannot be found
// or read.
func ModelFor(name string, w backend.Workload) (models.Model, error) {
	m, err := models.Load(name, models.Options{Workload: w})
	if err != nil {
		return nil, err
	}
	if err := models.CheckText(m); err != nil {
		return nil, fmt.Errorf("tutorials: %w", err)
	}
	return m, nil
}

// Layer maps a layer of GPT-2 small (12 layers), as the tutorials' texts
// name them, to m: the same layer for a 12-layer model, the block with the
// same role for a model shaped like the shipped one (facts.Layer), else
// the same relative depth. It is nb.Layer.
func Layer(m lm.Model, gpt2Small int) int {
	return nb.Layer(m, gpt2Small)
}

// TokenID returns the id of a single-token string such as " Paris", or an
// error naming it and the tokens it splits into (as for a tokenizer that
// spells the word differently from GPT-2's).
func TokenID(m models.Model, token string) (int, error) {
	return models.TokenID(m, token)
}

// Out is where a tutorial shows its results: text goes to W; plots are
// shown inline in a notebook, else written as files into Dir.
type Out struct {
	W   io.Writer
	Dir string
}

// Show displays r inline in a notebook, or writes it to the file name in
// o.Dir (creating the folder) and prints the file's path to o.W. It returns
// an error for an empty Dir or name, or when the file cannot be written.
func (o Out) Show(r plots.Renderer, name string) error {
	if plots.InNotebook() {
		return plots.Display(r)
	}
	if o.Dir == "" {
		return fmt.Errorf("tutorial: writing %q: Out.Dir is empty", name)
	}
	if name == "" || filepath.IsAbs(name) {
		return fmt.Errorf("tutorial: file name %q: want a name relative to %s", name, o.Dir)
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return fmt.Errorf("tutorial: output folder: %w", err)
	}
	path, err := plots.Show(r, filepath.Join(dir, name))
	if err != nil {
		return err
	}
	fmt.Fprintln(o.W, "wrote", path)
	return nil
}

// module is the module path of govene's go.mod.
const module = "github.com/govene/govene"

// DefaultDir is the folder a tutorial program writes its files to unless
// -out says otherwise: out/<tutorial> in the govene checkout when run from
// inside it (out/ is git-ignored), else <temp>/govene-tutorials/<tutorial>.
func DefaultDir(tutorial string) string {
	if root, ok := checkoutRoot(); ok {
		return filepath.Join(root, "out", tutorial)
	}
	return filepath.Join(os.TempDir(), "govene-tutorials", tutorial)
}

// checkoutRoot finds the folder of govene's go.mod at or above the current
// folder.
func checkoutRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			return dir, strings.TrimSpace(first) == "module "+module
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", false
		}
		dir = up
	}
}

// Main is every tutorial program's main: it adds the -model and -out flags
// to the flags the program defined, parses them, loads the model and calls
// run with the output (stdout and the -out folder), exiting with the error
// (prefixed with the tutorial's name) if any.
func Main(name string, run func(m models.Model, o Out) error) {
	MainFor(name, nil, run)
}

// Result adapts a tutorial's run, which returns what it showed (for its
// test), to Main's: the result is dropped and only the error kept.
func Result[R any](run func(m models.Model, o Out) (R, error)) func(m models.Model, o Out) error {
	return func(m models.Model, o Out) error {
		_, err := run(m, o)
		return err
	}
}

// MainFor is Main with the model loaded by ModelFor for the workload that
// work returns once the flags are parsed (nil: an unknown, small workload).
func MainFor(name string, work func() backend.Workload, run func(m models.Model, o Out) error) {
	model := flag.String("model", "", "model: a checkpoint folder of any supported family, an HF cache name or a Hub name (default: $GOVENE_MODEL, else the shipped model)")
	out := flag.String("out", DefaultDir(name), "folder for the tutorial's HTML and SVG files")
	flag.Parse()
	var w backend.Workload
	if work != nil {
		w = work()
	}
	m, err := ModelFor(*model, w)
	if err == nil {
		err = run(m, Out{W: os.Stdout, Dir: *out})
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
