package plots

import (
	"math"
	"strings"
	"unicode/utf8"
)

// The tables' inline styles. JupyterLab keeps inline style attributes (of
// the properties and values its sanitiser knows) in an untrusted notebook
// but drops <style> elements, so tables carry all their styling inline.
const (
	tableStyle   = `border-collapse:collapse;margin:2px 0;font-size:13px`
	captionStyle = `font-weight:bold;text-align:left;padding:4px 0;font-size:14px`
	thStyle      = `padding:2px 8px;border-bottom:1px solid #999999;font-weight:bold;white-space:nowrap`
	tdStyle      = `padding:2px 8px;border-bottom:1px solid #e6e6e6;white-space:nowrap`
	codeStyle    = `font-family:monospace;white-space:pre;background-color:#f2f2f2;padding:0 3px`
	idStyle      = `color:#888888;font-size:11px`
	extraStyle   = `background-color:#fffbe6`
	barColor     = "#6a51a3"
	afterColor   = "#e6550d"
)

// Colors of a change: up, down, none.
var deltaColors = map[string]string{"up": "#1a7f37", "down": "#cf222e", "none": "#999999"}

// cellStyle is the style of a th or td, right-aligned when num is set.
func cellStyle(base string, num bool) string {
	if num {
		return base + ";text-align:right"
	}
	return base + ";text-align:left"
}

// openTable writes the start of an HTML table of class to b: the <table>
// tag with its inline style and, when title is not empty, its caption.
func openTable(b *strings.Builder, class, title string) {
	b.WriteString(`<table class="` + class + `" style="` + tableStyle + `">`)
	if title != "" {
		b.WriteString(`<caption style="` + captionStyle + `">` + esc(oneLine(title)) + `</caption>`)
	}
}

// barSpan is an inline bar of width w pixels.
func barSpan(w float64, color string) string {
	return `<span style="display:inline-block;width:` + num(w) + `px;height:10px;background-color:` + color + `;vertical-align:middle"></span>`
}

// textCol is a column of a plain-text table.
type textCol struct {
	head  string
	right bool // right-aligned (numbers); left otherwise
}

// runeWidth is the number of runes of s, its width in a fixed-width font
// for the text this package writes (no wide characters are measured).
func runeWidth(s string) int { return utf8.RuneCountInString(s) }

// formatTextTable lays out a plain-text table: a title line, the header
// line with each heading aligned as its column's cells are (so a heading
// stands over its own values), a rule, and the rows, columns separated by
// two spaces; trailing spaces are trimmed.
func formatTextTable(title string, cols []textCol, rows [][]string) string {
	w := make([]int, len(cols))
	for j, c := range cols {
		w[j] = runeWidth(c.head)
	}
	for _, r := range rows {
		for j, cell := range r {
			w[j] = max(w[j], runeWidth(cell))
		}
	}
	line := func(cells []string) string {
		var b strings.Builder
		for j, cell := range cells {
			if j > 0 {
				b.WriteString("  ")
			}
			padding := strings.Repeat(" ", w[j]-runeWidth(cell))
			if cols[j].right {
				b.WriteString(padding + cell)
			} else {
				b.WriteString(cell + padding)
			}
		}
		return strings.TrimRight(b.String(), " ")
	}
	var b strings.Builder
	if title != "" {
		b.WriteString(oneLine(title) + "\n")
	}
	heads := make([]string, len(cols))
	total := 0
	for j, c := range cols {
		heads[j] = c.head
		total += w[j]
	}
	b.WriteString(line(heads) + "\n")
	b.WriteString(strings.Repeat("-", total+2*(len(cols)-1)) + "\n")
	for _, r := range rows {
		b.WriteString(line(r) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// textBar is a bar of p on a scale to max, at most n characters of block
// elements (eighths), "" for nothing.
func textBar(p, max float64, n int) string {
	if math.IsNaN(p) || p <= 0 || max <= 0 {
		return ""
	}
	eighths := int(math.Round(math.Min(p/max, 1) * float64(n) * 8))
	s := strings.Repeat("█", eighths/8)
	if r := eighths % 8; r > 0 {
		s += string([]rune("▏▎▍▌▋▊▉")[r-1])
	}
	return s
}

// quoted shows a token in a text table: its visible form in double quotes,
// so leading spaces show.
func quoted(tok string, id int) string {
	if tok == "" {
		return tokenLabel(tok, id)
	}
	return `"` + visible(tok) + `"`
}
