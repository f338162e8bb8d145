package views

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/govene/govene/plots"
)

// Options set how an explorer interacts in a notebook, and where its view
// goes outside one. The zero value is ready to use.
type Options struct {
	// Idle ends the interaction after this long without a change of
	// selection (default 5 minutes): the cell then finishes, leaving the
	// last view in its output. The Done button ends it at once.
	Idle time.Duration
	// Connect is how long the explorer waits for the notebook's page to
	// answer its widgets (default 10 seconds); then it leaves the first
	// selection's view and returns. A notebook run without a Jupyter
	// server (nbconvert, papermill, make test: the kernel has no
	// $JPY_SESSION_NAME) has no page, and the explorer does not wait.
	Connect time.Duration
	// Name, when not empty, is where the first selection's view is
	// written outside a notebook (plots.Show: a page in $GOVENE_PLOTS_DIR,
	// else the current folder). Empty: nothing is written.
	Name string
}

func (o Options) idle() time.Duration {
	if o.Idle > 0 {
		return o.Idle
	}
	return 5 * time.Minute
}

func (o Options) connect() time.Duration {
	if o.Connect > 0 {
		return o.Connect
	}
	return 10 * time.Second
}

// control is one widget: a select over options, or a slider from min to
// max when options is nil; value is its first value.
type control struct {
	label    string
	options  []string
	min, max int
	value    int
}

// change is a widget's new value.
type change struct{ control, value int }

// frontEnd is where an explorer shows its view and widgets: GoNB's page
// (gonbFrontEnd), or a stand-in in the tests.
type frontEnd interface {
	// notebook reports whether the program runs in a notebook.
	notebook() bool
	// interactive reports whether a page may answer widgets (it may still
	// fail to: see widgets).
	interactive() bool
	// newID returns a new display id.
	newID() string
	// show sends bundle as the output with display id id: the first time
	// a new output, afterwards a replacement of it in place.
	show(id string, bundle map[string]string) error
	// place makes an empty output for the widgets (above the view, which
	// is shown next) and returns its handle for widgets.
	place() string
	// widgets shows the controls and a Done button in the output place
	// made and returns the controls' changes, the Done clicks and a
	// function that removes the widgets; or, when the page did not answer
	// within connect, an error (the output is emptied).
	widgets(area string, controls []control, connect time.Duration) (changes <-chan change, done <-chan struct{}, remove func(), err error)
	// sync waits until the page has what was sent.
	sync()
}

// view is what an explorer draws for one selection: an HTML fragment with
// a plain-text alternative (a plots.Renderer with no SVG form).
type view interface {
	plots.Renderer
	plots.Texter
}

// bundleOf returns v's notebook output: its HTML and its text.
func bundleOf(v view) (map[string]string, error) {
	h, err := v.HTML()
	if err != nil {
		return nil, err
	}
	t, err := v.Text()
	if err != nil {
		return nil, err
	}
	return map[string]string{plots.MIMEHTML: h, plots.MIMEPlain: t}, nil
}

// errorBundle is the output shown in place of a view that failed to
// render, so the explorer keeps running on other selections.
func errorBundle(err error) map[string]string {
	msg := plots.OneLine(err.Error())
	return map[string]string{
		plots.MIMEHTML:  `<div class="govene-view govene-error" style="color:#cf222e;font-family:` + sansFont + `">` + esc(msg) + `</div>`,
		plots.MIMEPlain: "error: " + msg,
	}
}

// explore renders the first selection (the controls' values) and, in a
// notebook, shows it and the widgets, then redraws the view in place on
// each change of selection until Done, Idle or a page that does not
// answer; outside a notebook it writes the view when opts.Name says so.
// It returns the last view rendered, or the first selection's error.
func explore(fe frontEnd, controls []control, render func(sel []int) (view, error), opts Options) (view, error) {
	sel := make([]int, len(controls))
	for i, c := range controls {
		sel[i] = c.value
	}
	v, err := render(sel)
	if err != nil {
		return nil, err
	}
	b, err := bundleOf(v)
	if err != nil {
		return nil, err
	}
	if !fe.notebook() {
		if opts.Name != "" {
			if _, err := plots.Show(v, opts.Name); err != nil {
				return v, err
			}
		}
		return v, nil
	}
	if !fe.interactive() {
		// No page (a headless run): the first view, as a static output.
		if err := fe.show(fe.newID(), b); err != nil {
			return v, err
		}
		fe.sync()
		return v, nil
	}
	area := fe.place()
	id := fe.newID()
	if err := fe.show(id, b); err != nil {
		return v, err
	}
	changes, done, remove, err := fe.widgets(area, controls, opts.connect())
	if err != nil {
		// No page to talk to: the first view stays, as a static output.
		fe.sync()
		return v, nil
	}
	defer func() {
		remove()
		fe.sync()
	}()
	idle := time.NewTimer(opts.idle())
	defer idle.Stop()
	for {
		select {
		case <-done:
			return v, nil
		case <-idle.C:
			return v, nil
		case c, ok := <-changes:
			if !ok {
				return v, nil
			}
			apply(sel, c)
			// Take the changes already waiting too: only the latest
			// selection is drawn.
		drain:
			for {
				select {
				case c, ok := <-changes:
					if !ok {
						break drain
					}
					apply(sel, c)
				default:
					break drain
				}
			}
			idle.Reset(opts.idle())
			nv, err := render(sel)
			var nb map[string]string
			if err == nil {
				nb, err = bundleOf(nv)
			}
			if err != nil {
				nb = errorBundle(err)
			} else {
				v = nv
			}
			if err := fe.show(id, nb); err != nil {
				return v, err
			}
		}
	}
}

// apply sets one control's new value in sel (a change of an unknown
// control is ignored).
func apply(sel []int, c change) {
	if c.control >= 0 && c.control < len(sel) {
		sel[c.control] = c.value
	}
}

// checkChoice returns an error naming field when v is not in [0, n).
func checkChoice(field string, v, n int) error {
	if n <= 0 {
		return fmt.Errorf("views: %s: nothing to choose from", field)
	}
	if v < 0 || v >= n {
		return fmt.Errorf("views: %s: %d out of range: want 0 to %d", field, v, n-1)
	}
	return nil
}

// noSVG is the error of a view's SVG method.
func noSVG(kind string) error {
	return errors.New("views: " + kind + " has no SVG form; use HTML (or plots.WriteFile to .html)")
}

// labels returns the strings "prefix0", "prefix1", ... up to n.
func labels(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// tokenOptions returns a select's options for tokens: "3: \"tok\"".
func tokenOptions(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = fmt.Sprintf("%d: %s", i, strings.TrimSpace(quoted(t)))
	}
	return out
}
