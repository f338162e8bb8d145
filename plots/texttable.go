package plots

import (
	"errors"
	"fmt"
	"strings"
)

// TextTable is a table of text cells, such as prompts with their steered
// and unsteered continuations side by side. Cells keep their spaces.
type TextTable struct {
	Title  string
	Header []string
	Rows   [][]string
}

func (t *TextTable) title() string { return t.Title }

func (t *TextTable) check() error {
	if t == nil {
		return errors.New("plots: TextTable: nil")
	}
	if len(t.Header) == 0 {
		return errors.New("plots: TextTable.Header: empty")
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Header) {
			return fmt.Errorf("plots: TextTable.Rows[%d]: %d cells, but TextTable.Header has %d", i, len(r), len(t.Header))
		}
	}
	return nil
}

// HTML renders the table; cells are escaped and shown in a monospace font
// so that leading spaces of tokens stay visible.
func (t *TextTable) HTML() (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(`<table class="govene-text">`)
	if t.Title != "" {
		fmt.Fprintf(&b, `<caption>%s</caption>`, esc(oneLine(t.Title)))
	}
	b.WriteString(`<thead><tr>`)
	for _, h := range t.Header {
		fmt.Fprintf(&b, `<th>%s</th>`, esc(h))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for _, r := range t.Rows {
		b.WriteString(`<tr>`)
		for _, c := range r {
			fmt.Fprintf(&b, `<td><code>%s</code></td>`, esc(c))
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table>`)
	return fragment("govene-texttable", b.String()), nil
}

// SVG returns an error: a text table is HTML only.
func (t *TextTable) SVG() (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	return "", errors.New("plots: TextTable: SVG: a text table renders as HTML only; use HTML or a .html file")
}
