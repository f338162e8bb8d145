package views

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/govene/govene/plots"
)

// wellFormed fails t unless s parses as XML (strict).
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
	}
}

// shown is one output a fakeFrontEnd received.
type shown struct {
	id     string
	bundle map[string]string
}

// fakeFrontEnd stands in for GoNB's page: it records the outputs and plays
// scripted widget changes, then clicks Done.
type fakeFrontEnd struct {
	inNotebook bool
	noPage     bool // not interactive
	noAnswer   bool // interactive, but widgets fails
	changes    []change
	shows      []shown
	controls   []control
	removed    bool
	placed     int
	ack        chan struct{}
}

func (f *fakeFrontEnd) notebook() bool { return f.inNotebook }
func (f *fakeFrontEnd) newID() string  { return "view1" }
func (f *fakeFrontEnd) interactive() bool {
	return !f.noPage
}
func (f *fakeFrontEnd) sync() {}

func (f *fakeFrontEnd) show(id string, bundle map[string]string) error {
	f.shows = append(f.shows, shown{id, bundle})
	if f.ack != nil {
		f.ack <- struct{}{}
	}
	return nil
}

func (f *fakeFrontEnd) place() string {
	f.placed++
	return "controls"
}

func (f *fakeFrontEnd) widgets(area string, controls []control, connect time.Duration) (<-chan change, <-chan struct{}, func(), error) {
	if area != "controls" || f.placed != 1 || len(f.shows) != 1 {
		return nil, nil, nil, fmt.Errorf("widgets(%q) after %d places and %d outputs; want after one place and the first view", area, f.placed, len(f.shows))
	}
	f.controls = controls
	if f.noAnswer {
		return nil, nil, nil, errors.New("no page")
	}
	changes := make(chan change)
	done := make(chan struct{})
	f.ack = make(chan struct{}, 1)
	go func() {
		// One change at a time, each after the redraw of the one before,
		// so that none is merged with the next.
		for _, c := range f.changes {
			changes <- c
			<-f.ack
		}
		close(done)
	}()
	return changes, done, func() { f.removed = true }, nil
}

// withFrontEnd makes f the explorers' front end for the test.
func withFrontEnd(t *testing.T, f *fakeFrontEnd) {
	old := defaultFrontEnd
	defaultFrontEnd = f
	t.Cleanup(func() { defaultFrontEnd = old })
}

// htmlOf returns r's HTML, failing t on an error, after checking it is
// well-formed.
func htmlOf(t *testing.T, r plots.Renderer) string {
	t.Helper()
	h, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	wellFormed(t, h)
	return h
}
