// Package nb holds what govene's notebooks (notebooks/*.ipynb, run with the
// GoNB kernel) and tutorial programs share: stopping a cell on an error
// (Must, Check), loading the model they run on (LoadModel, LoadModelFor,
// LoadNamed: $GOVENE_MODEL or the small GPT-2 that ships with govene),
// scaling GPT-2 small's layer numbers to it (Layer) and looking up a token
// (TokenID).
//
// In a notebook's first cell:
//
//	import "github.com/govene/govene/nb"
//
//	var m = nb.Must(nb.LoadModel())
//
// Must and Check never panic: on an error they print it and end the
// program, which in GoNB stops the cell with the error under it and no Go
// stack trace.
package nb

import (
	"fmt"
	"io"
	"os"

	"github.com/janpfeifer/gonb/gonbui"
)

// Stopping is swapped by the tests.
var (
	stderr io.Writer = os.Stderr
	exit             = os.Exit
	// flush waits until GoNB has shown the display data (plots, tables) the
	// cell sent before it ends; a no-op outside a notebook.
	flush = gonbui.Sync
)

// Must returns v when err is nil. Otherwise it prints err to standard error
// and ends the program with status 1: in a notebook the cell stops, showing
// the error. For example nb.Must(pv.New(m, cfg)).
func Must[T any](v T, err error) T {
	if err != nil {
		stop(err)
	}
	return v
}

// Check does nothing when err is nil. Otherwise, like Must, it prints err to
// standard error and ends the program with status 1, stopping the cell.
func Check(err error) {
	if err != nil {
		stop(err)
	}
}

// stop prints err, flushes what the cell displayed so far and exits.
func stop(err error) {
	flush()
	fmt.Fprintf(stderr, "error: %v\n", err)
	exit(1)
}
