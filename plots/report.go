package plots

import (
	"errors"
	"fmt"
	"strings"
)

// Report is an HTML page of headings, paragraphs, preformatted text and
// plots in order, e.g. a causal-tracing report; write it with WriteFile (to
// a .html file) or Show, or Display it in a notebook. Build it with the
// chaining methods:
//
//	r := plots.NewReport("Causal tracing").
//		Paragraph("GPT-2 small, 'The Eiffel Tower is in'").
//		Add(table, heat)
type Report struct {
	// Title is the page's title and top heading.
	Title string

	blocks []reportBlock
}

type reportBlock struct {
	tag  string // "h2", "p", "pre", or "" for a renderer
	text string
	r    Renderer
}

// NewReport returns an empty report.
func NewReport(title string) *Report { return &Report{Title: title} }

func (r *Report) title() string { return r.Title }

// Heading adds a section heading.
func (r *Report) Heading(text string) *Report {
	r.blocks = append(r.blocks, reportBlock{tag: "h2", text: text})
	return r
}

// Paragraph adds a paragraph of plain text (HTML in it is shown as text).
func (r *Report) Paragraph(text string) *Report {
	r.blocks = append(r.blocks, reportBlock{tag: "p", text: text})
	return r
}

// Preformatted adds text in a fixed-width font with its line breaks kept,
// e.g. lm.FormatTop's output.
func (r *Report) Preformatted(text string) *Report {
	r.blocks = append(r.blocks, reportBlock{tag: "pre", text: text})
	return r
}

// Add adds plots (or tables, or other reports).
func (r *Report) Add(items ...Renderer) *Report {
	for _, it := range items {
		r.blocks = append(r.blocks, reportBlock{r: it})
	}
	return r
}

// Len returns the number of blocks (headings, text and plots) added.
func (r *Report) Len() int { return len(r.blocks) }

// HTML returns the report as an HTML fragment (WriteFile and Page make it a
// standalone page). A plot that fails to render fails the report, with its
// position in the error.
func (r *Report) HTML() (string, error) {
	h, _, err := r.render(func(it Renderer) (string, error) { return it.HTML() })
	if err != nil {
		return "", err
	}
	return fragment("govene-report-page", h), nil
}

// notebookHTML returns the report as NotebookBundle shows it: its items in
// their notebook forms, and the headings, paragraphs and preformatted text
// with the title as the plain-text alternative.
func (r *Report) notebookHTML() (html, plain string, err error) {
	h, plain, err := r.render(func(it Renderer) (string, error) {
		h, _, err := notebookHTML(it)
		return h, err
	})
	if err != nil {
		return "", "", err
	}
	return `<div class="govene-plot govene-report-page">` + h + `</div>`, plain, nil
}

// render writes the report's blocks, each item as item returns it, and
// returns them with a plain-text outline (title, headings and text).
func (r *Report) render(item func(Renderer) (string, error)) (html, plain string, err error) {
	if r == nil {
		return "", "", errors.New("plots: Report: nil")
	}
	var b, t strings.Builder
	b.WriteString(`<div class="govene-report">`)
	if r.Title != "" {
		fmt.Fprintf(&b, `<h1>%s</h1>`, esc(oneLine(r.Title)))
		t.WriteString(oneLine(r.Title) + "\n")
	}
	for i, bl := range r.blocks {
		if bl.tag != "" {
			fmt.Fprintf(&b, "<%s>%s</%s>\n", bl.tag, esc(cleanText(bl.text)), bl.tag)
			t.WriteString(cleanText(bl.text) + "\n")
			continue
		}
		if bl.r == nil {
			return "", "", fmt.Errorf("plots: Report block %d: nil Renderer", i)
		}
		h, err := item(bl.r)
		if err != nil {
			return "", "", fmt.Errorf("plots: Report block %d (%T): %w", i, bl.r, err)
		}
		b.WriteString(`<div class="govene-report-item">` + h + "</div>\n")
		t.WriteString("[" + plainOf(bl.r) + "]\n")
	}
	b.WriteString(`</div>`)
	return b.String(), strings.TrimRight(t.String(), "\n"), nil
}

// SVG returns an error: a report is HTML only.
func (r *Report) SVG() (string, error) {
	return "", errors.New("plots: Report: a report has no SVG form; write it to a .html file")
}
