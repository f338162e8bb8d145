package plots

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MIME types of the notebook outputs made by NotebookBundle.
const (
	MIMEHTML  = "text/html"
	MIMEPlain = "text/plain"
)

// Texter is a Renderer with a plain-text form, e.g. a table aligned in a
// fixed-width font. NotebookBundle uses it for the text/plain alternative.
type Texter interface {
	Text() (string, error)
}

// NotebookBundle returns r as one notebook output, a MIME bundle that
// JupyterLab shows the same whether or not it trusts the notebook:
//
//   - "text/html": tables (ProbTable, Comparison, TextTable) as HTML tables
//     styled with inline style attributes only; every other renderer as an
//     <img> of its SVG (a data: URI) with the SVG's width and height and the
//     title as alt text; a Report as its headings and text with its items
//     in these forms.
//   - "text/plain": a Texter's Text, else the kind of plot, its title and
//     size.
//
// An untrusted notebook (one opened from a clone, not run here) drops
// <svg> and <style> from text/html and refuses image/svg+xml, which is why
// plots are images. It returns r's rendering error, if any, and an error
// for a nil r.
func NotebookBundle(r Renderer) (map[string]string, error) {
	if r == nil {
		return nil, errors.New("plots: NotebookBundle: nil Renderer")
	}
	h, plain, err := notebookHTML(r)
	if err != nil {
		return nil, err
	}
	return map[string]string{MIMEHTML: h, MIMEPlain: plain}, nil
}

// notebookHTML returns r's notebook HTML and its plain-text alternative.
func notebookHTML(r Renderer) (html, plain string, err error) {
	switch v := r.(type) {
	case *Report:
		return v.notebookHTML()
	case *ProbTable, *Comparison, *TextTable:
		h, err := r.HTML()
		if err != nil {
			return "", "", err
		}
		t, err := r.(Texter).Text()
		if err != nil {
			return "", "", err
		}
		return h, t, nil
	}
	s, err := r.SVG()
	if err != nil {
		// A renderer of the caller's with no SVG form: its HTML as it is.
		h, herr := r.HTML()
		if herr != nil {
			return "", "", herr
		}
		return h, plainOf(r), nil
	}
	title := ""
	if t, ok := r.(titler); ok {
		title = oneLine(t.title())
	}
	img, w, h := svgImage(s, title)
	plain = fmt.Sprintf("%s (%s x %s px SVG image)", kindOf(r), num(w), num(h))
	if title != "" {
		plain = fmt.Sprintf("%s %q (%s x %s px SVG image)", kindOf(r), title, num(w), num(h))
	}
	return `<div class="govene-plot">` + img + `</div>`, plain, nil
}

// plainOf is the text/plain alternative of a renderer with no other.
func plainOf(r Renderer) string {
	if t, ok := r.(Texter); ok {
		if s, err := t.Text(); err == nil {
			return s
		}
	}
	if t, ok := r.(titler); ok && t.title() != "" {
		return fmt.Sprintf("%s %q", kindOf(r), oneLine(t.title()))
	}
	return kindOf(r)
}

// kindOf names r's kind for plain text: "HeatMap" for a *plots.HeatMap.
func kindOf(r Renderer) string {
	s := fmt.Sprintf("%T", r)
	s = strings.TrimPrefix(s, "*")
	return strings.TrimPrefix(s, "plots.")
}

var svgRoot = regexp.MustCompile(`^<svg\b[^>]*>`)
var svgAttr = regexp.MustCompile(`\s(width|height)="([0-9.]+)(px)?"`)

// svgImage returns an <img> showing the SVG s, sized as s's root element
// says (its width and height attributes, in pixels), and that size.
func svgImage(s, alt string) (img string, w, h float64) {
	if root := svgRoot.FindString(s); root != "" {
		for _, m := range svgAttr.FindAllStringSubmatch(root, -1) {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				continue
			}
			if m[1] == "width" && w == 0 {
				w = v
			} else if m[1] == "height" && h == 0 {
				h = v
			}
		}
	}
	doc := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + s
	var b strings.Builder
	b.WriteString(`<img src="data:image/svg+xml;base64,`)
	b.WriteString(base64.StdEncoding.EncodeToString([]byte(doc)))
	b.WriteString(`"`)
	if w > 0 && h > 0 {
		fmt.Fprintf(&b, ` width="%s" height="%s"`, num(w), num(h))
	}
	fmt.Fprintf(&b, ` alt="%s"/>`, esc(alt))
	return b.String(), w, h
}
