// Package nb holds what govene's notebooks (notebooks/*.ipynb, run with the
// GoNB kernel) share: stopping a cell on an error (Must, Check), scaling
// GPT-2 small's layer numbers to the model (Layer) and labelling token ids
// (Label). It links no GoMLX, so a cell that talks to a session builds
// fast.
//
// In a notebook's first cell:
//
//	import (
//		"github.com/govene/govene"
//		"github.com/govene/govene/nb"
//		"github.com/govene/govene/session"
//	)
//
//	var e govene.Engine = nb.Must(session.Connect(session.Options{}))
//	var m = nb.Must(e.Model("")) // $GOVENE_MODEL, else the shipped model
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
