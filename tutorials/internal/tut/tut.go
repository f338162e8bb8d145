// Package tut holds what the tutorial programs share: choosing the model
// (the shipped one by default), scaling GPT-2 small's layer numbers to it,
// and showing results in a notebook or writing them to files.
package tut

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/shipped"
)

// ModelEnv names an environment variable that overrides the default model
// of every tutorial (a folder, an HF cache name or a Hub name).
const ModelEnv = "GOVENE_MODEL"

// Model loads the model a tutorial runs on: name if set, else $GOVENE_MODEL,
// else the small GPT-2 that ships with govene.
func Model(name string) (*gpt2.Model, error) {
	if name == "" {
		name = os.Getenv(ModelEnv)
	}
	if name == "" {
		return shipped.Load(gpt2.Options{})
	}
	return gpt2.Load(name)
}

// Layer maps a layer of GPT-2 small (12 layers), as the tutorials' texts
// name them, to m: the same layer for a 12-layer model, the block with the
// same role for a model shaped like the shipped one (shipped.Layer), else
// the same relative depth.
func Layer(m lm.Model, gpt2Small int) int {
	n := m.Dims().Layers
	if n == 12 {
		return gpt2Small
	}
	if c := shipped.DefaultModel(); n == c.NLayer && m.Dims().Hidden == c.NEmbd {
		return shipped.Layer(gpt2Small)
	}
	return min(n-1, int(math.Round(float64(gpt2Small*n)/12)))
}

// TokenID returns the id of a single-token string such as " Paris", or an
// error naming it when the tokenizer splits it.
func TokenID(m *gpt2.Model, token string) (int, error) {
	id, ok := m.Tokenizer().ID(token)
	if !ok {
		return 0, fmt.Errorf("tutorial: %q is not one token for this tokenizer", token)
	}
	return id, nil
}

// Show displays a plot inline in a notebook, or writes it to a file named
// name (in $GOVENE_PLOTS_DIR or the current folder) and prints its path to w.
func Show(w io.Writer, r plots.Renderer, name string) error {
	if plots.InNotebook() {
		return plots.Display(r)
	}
	path, err := plots.Show(r, name)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "wrote", path)
	return nil
}

// Main is every tutorial program's main: it adds the -model flag to the
// flags the program defined, parses them, loads the model and calls run,
// exiting with the error (prefixed with the tutorial's name) if any.
func Main(name string, run func(m *gpt2.Model) error) {
	model := flag.String("model", "", "model: a folder, HF cache name or Hub name (default: the shipped model)")
	flag.Parse()
	m, err := Model(*model)
	if err == nil {
		err = run(m)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
