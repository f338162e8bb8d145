package views

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/comms"
	"github.com/janpfeifer/gonb/gonbui/dom"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	"github.com/janpfeifer/gonb/gonbui/widgets"
)

// gonbFrontEnd is the page of a GoNB notebook: views are outputs with a
// display id of their own (Jupyter's update_display_data replaces them in
// place, and the last one is saved with the notebook), widgets are
// gonbui/widgets' selects, sliders and button in a transient output.
type gonbFrontEnd struct{}

// defaultFrontEnd is the front end of the explorers; the tests swap it.
var defaultFrontEnd frontEnd = gonbFrontEnd{}

func (gonbFrontEnd) notebook() bool { return gonbui.IsNotebook }

// sessionEnvVar is the environment variable a Jupyter server (JupyterLab,
// Notebook) sets for the kernels it starts, which the cell's program
// inherits: without it the kernel was started by nbconvert, papermill or
// nbclient, with no page to run the widgets.
const sessionEnvVar = "JPY_SESSION_NAME"

func (gonbFrontEnd) interactive() bool { return os.Getenv(sessionEnvVar) != "" }

func (gonbFrontEnd) newID() string { return "govene_view_" + gonbui.UniqueId() }

func (gonbFrontEnd) sync() { gonbui.Sync() }

func (gonbFrontEnd) show(id string, bundle map[string]string) error {
	data := &protocol.DisplayData{Data: make(map[protocol.MIMEType]any, len(bundle)), DisplayID: id}
	for mime, content := range bundle {
		data.Data[protocol.MIMEType(mime)] = content
	}
	gonbui.SendData(data)
	if err := gonbui.Error(); err != nil {
		return fmt.Errorf("views: notebook: %w", err)
	}
	return nil
}

// labelStyle is the inline style of a widget's label.
const labelStyle = `font-family:` + sansFont + `;font-size:13px;margin:0 4px 0 10px`

// controlsDiv sets the widgets' output (display id out) to an empty <div>
// with an id of its own, which it returns.
func controlsDiv(out string) string {
	div := "govene_controls_" + gonbui.UniqueId()
	gonbui.UpdateHTML(out, fmt.Sprintf(`<div id="%s" class="govene-controls" style="margin:4px 0"></div>`, div))
	return div
}

// place sends the widgets' output, an empty <div>, and returns its display
// id.
func (gonbFrontEnd) place() string {
	out := "govene_controls_out_" + gonbui.UniqueId()
	controlsDiv(out)
	return out
}

// connectTries is how many times widgets tries to make the widgets: GoNB
// gives the page's connection half a second to open, which a busy machine
// can miss, and the next use of its comms tries again.
const connectTries = 3

// built are the widgets' channels: each control's values and Done's
// clicks.
type built struct {
	chans []*comms.AddressChan[int]
	done  *comms.AddressChan[int]
}

// build makes the widgets in the <div> div and sends them on ready. Each
// widget's Done waits for the page's first answer: with no page (or a
// failed connection) it waits for ever, and the explorer goes on without.
func build(div string, controls []control, ready chan<- built) {
	var b built
	for _, c := range controls {
		dom.Append(div, fmt.Sprintf(`<span style="%s">%s</span>`, labelStyle, esc(c.label)))
		if c.options != nil {
			opts := make([]string, len(c.options))
			for i, o := range c.options {
				opts[i] = esc(o) // gonbui writes the options into the HTML as they are
			}
			s := widgets.Select(opts).SetDefault(c.value).AppendTo(div).Done()
			b.chans = append(b.chans, s.Listen().LatestOnly())
		} else {
			s := widgets.Slider(c.min, c.max, c.value).AppendTo(div).Done()
			dom.Append(div, fmt.Sprintf(`<span style="%s">%d to %d</span>`, labelStyle, c.min, c.max))
			b.chans = append(b.chans, s.Listen().LatestOnly())
		}
	}
	dom.Append(div, `<span style="margin-left:10px"></span>`)
	b.done = widgets.Button("Done").AppendTo(div).Done().Listen()
	ready <- b
}

func (gonbFrontEnd) widgets(out string, controls []control, connect time.Duration) (<-chan change, <-chan struct{}, func(), error) {
	remove := func() { gonbui.UpdateHTML(out, "") }
	var b built
	ok := false
	for range connectTries {
		// A fresh <div> each try: a late answer to an earlier try adds its
		// widgets to a <div> no longer there.
		div := controlsDiv(out)
		ready := make(chan built, 1)
		go build(div, controls, ready)
		select {
		case b = <-ready:
			ok = true
		case <-time.After(connect / connectTries):
		}
		if ok {
			break
		}
	}
	if !ok {
		remove()
		return nil, nil, nil, errors.New("views: the notebook's page did not answer the widgets")
	}
	changes := make(chan change)
	done := make(chan struct{})
	stop := make(chan struct{})
	for i, ch := range b.chans {
		go func() {
			for v := range ch.C {
				select {
				case changes <- change{control: i, value: v}:
				case <-stop:
					return
				}
			}
		}()
	}
	go func() {
		select {
		case <-b.done.C:
			close(done)
		case <-stop:
		}
	}()
	return changes, done, func() {
		close(stop)
		for _, ch := range b.chans {
			ch.Close()
		}
		b.done.Close()
		remove()
	}, nil
}
