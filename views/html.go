package views

import (
	"fmt"
	"html"
	"strings"

	"github.com/govene/govene/plots"
)

// Fonts of the views, as package plots uses them.
const (
	sansFont = plots.SansFont
	monoFont = plots.MonoFont
)

// esc escapes s for HTML (and XML) text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// tokenHTML is a token as the views show it (plots.TokenText), escaped.
func tokenHTML(s string) string { return esc(plots.TokenText(s)) }

// quoted is a token for a tooltip or a plain-text line: "tok", escapes
// shown (not HTML-escaped).
func quoted(s string) string { return `"` + plots.TokenText(s) + `"` }

// num formats v with 3 significant digits (plots.Short).
func num(v float64) string { return plots.Short(v) }

// unit clamps t into [0, 1]; NaN is 0.
func unit(t float64) float64 {
	switch {
	case !(t > 0):
		return 0
	case t > 1:
		return 1
	}
	return t
}

// textOn returns black or white, whichever reads better on the color
// "#rrggbb".
func textOn(color string) string {
	var r, g, b uint8
	if _, err := fmt.Sscanf(color, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return "#000000"
	}
	if 0.2126*float64(r)+0.7152*float64(g)+0.0722*float64(b) < 140 {
		return "#ffffff"
	}
	return "#000000"
}

// tokenStyle is the inline style of a token box: the views style tokens
// only with style attributes, which JupyterLab's sanitiser keeps in an
// untrusted notebook.
const tokenStyle = `font-family:` + monoFont + `;white-space:pre;padding:1px 2px;margin:0 1px;border-radius:2px;border:1px solid #ddd`

// shaded returns a token box colored by t in [0, 1] on cmap, with the
// given tooltip (plain text, escaped here).
func shaded(token string, t float64, cmap *plots.Colormap, tip string) string {
	bg := cmap.Color(unit(t))
	var b strings.Builder
	fmt.Fprintf(&b, `<span style="%s;background:%s;color:%s"`, tokenStyle, bg, textOn(bg))
	if tip != "" {
		fmt.Fprintf(&b, ` title="%s"`, esc(tip))
	}
	b.WriteString(`>` + tokenHTML(token) + `</span>`)
	return b.String()
}

// heading is a view's title line.
func heading(title string) string {
	if title == "" {
		return ""
	}
	return `<div style="font-weight:bold;font-size:14px;margin:2px 0 6px 0">` + esc(plots.OneLine(title)) + `</div>`
}

// note is a line of small gray text (plain text, escaped here).
func note(s string) string {
	return `<div style="color:#666;font-size:12px;margin:4px 0">` + esc(plots.OneLine(s)) + `</div>`
}

// wrap returns a view's HTML fragment: a <div> of class govene-view and
// kind, with data attributes (name -> value, in the given order) saying
// what it shows, so that tests and the browser check can read the
// selection.
func wrap(kind string, data [][2]string, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<div class="govene-view govene-%s"`, kind)
	for _, kv := range data {
		fmt.Fprintf(&b, ` data-%s="%s"`, kv[0], esc(kv[1]))
	}
	b.WriteString(` style="font-family:` + sansFont + `;font-size:13px;color:#222;background:#fff;margin:6px 0;max-width:100%;overflow-x:auto">`)
	b.WriteString(body)
	b.WriteString(`</div>`)
	return b.String()
}

// plotHTML returns the notebook HTML of a plot (package plots' <img> of its
// SVG, which shows in an untrusted notebook too), or its error.
func plotHTML(r plots.Renderer) (string, error) {
	b, err := plots.NotebookBundle(r)
	if err != nil {
		return "", err
	}
	return b[plots.MIMEHTML], nil
}
