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
	if err := checkFilled(t, "TextTable", "Header", func(t *TextTable) int { return len(t.Header) }); err != nil {
		return err
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Header) {
			return fmt.Errorf("plots: TextTable.Rows[%d]: %d cells, but TextTable.Header has %d", i, len(r), len(t.Header))
		}
	}
	return nil
}

// HTML renders the table, styled with inline style attributes only (it
// shows the same in an untrusted notebook); cells are escaped and shown in a
// monospace font so that leading spaces of tokens stay visible.
func (t *TextTable) HTML() (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	var b strings.Builder
	openTable(&b, "govene-text", t.Title)
	b.WriteString(`<thead><tr>`)
	th := cellStyle(thStyle, false)
	for _, h := range t.Header {
		fmt.Fprintf(&b, `<th style="%s">%s</th>`, th, esc(h))
	}
	b.WriteString(`</tr></thead><tbody>`)
	td := cellStyle(tdStyle, false)
	for _, r := range t.Rows {
		b.WriteString(`<tr>`)
		for _, c := range r {
			fmt.Fprintf(&b, `<td style="%s"><code style="%s">%s</code></td>`, td, codeStyle, esc(c))
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table>`)
	return tableFragment("govene-texttable", b.String()), nil
}

// Text returns the table in plain text, aligned for a fixed-width font,
// each heading over its column; cells are quoted with control characters
// and invalid UTF-8 escaped (see the package doc), so spaces show.
func (t *TextTable) Text() (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	cols := make([]textCol, len(t.Header))
	for j, h := range t.Header {
		cols[j] = textCol{head: oneLine(h)}
	}
	rows := make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		rows[i] = make([]string, len(r))
		for j, c := range r {
			rows[i][j] = `"` + visible(c) + `"`
		}
	}
	return formatTextTable(t.Title, cols, rows), nil
}

// SVG returns an error: a text table is HTML only.
func (t *TextTable) SVG() (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	return "", errors.New("plots: TextTable: SVG: a text table renders as HTML only; use HTML or a .html file")
}
