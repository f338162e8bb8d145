package views

import (
	"errors"
	"fmt"
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

// place sends the widgets' output: a <div> with an id of its own, the
// returned handle (the output's display id is "out_" and the handle).
func (gonbFrontEnd) place() string {
	div := "govene_controls_" + gonbui.UniqueId()
	gonbui.UpdateHTML("out_"+div, fmt.Sprintf(`<div id="%s" class="govene-controls" style="margin:4px 0"></div>`, div))
	return div
}

func (gonbFrontEnd) widgets(div string, controls []control, connect time.Duration) (<-chan change, <-chan struct{}, func(), error) {
	remove := func() { gonbui.UpdateHTML("out_"+div, "") }

	type built struct {
		chans []*comms.AddressChan[int]
		done  *comms.AddressChan[int]
	}
	ready := make(chan built, 1)
	go func() {
		// Each widget's Done waits for the page's first answer: with no
		// page, this goroutine waits for ever and the explorer goes on
		// without it.
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
	}()

	var b built
	select {
	case b = <-ready:
	case <-time.After(connect):
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
