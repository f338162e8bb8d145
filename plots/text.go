package plots

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fonts used in every SVG and table. Arial and Liberation Sans share their
// metrics, which is what gonum/plot lays its text out with.
const (
	sansFont = `Arial,'Liberation Sans',Helvetica,sans-serif`
	monoFont = `ui-monospace,Menlo,Consolas,'DejaVu Sans Mono','Liberation Mono',monospace`
)

// visible returns a token as it should be shown: invalid UTF-8 bytes (GPT-2's
// byte-level tokens can be parts of a character) as \xNN, newlines, tabs and
// other control characters as Go escapes, everything else unchanged
// (including leading and trailing spaces). The result holds only characters
// XML 1.0 allows.
func visible(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0xfffe || r == 0xffff || (r != ' ' && !unicode.IsPrint(r) && !unicode.IsGraphic(r)):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// cleanText makes free text (titles, paragraphs) safe for XML: invalid UTF-8
// becomes U+FFFD, control characters other than newline and tab are dropped.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || r == 0xfffe || r == 0xffff {
			return -1
		}
		return r
	}, s)
}

// oneLine is cleanText with newlines and tabs turned into spaces.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\t", " ").Replace(cleanText(s))
}

// esc escapes s for XML and HTML text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// truncate shortens s to at most n runes, ending it with an ellipsis.
func truncate(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// textWidth estimates the width in pixels of s at font size fs.
func textWidth(s string, fs float64, mono bool) float64 {
	per := 0.56
	if mono {
		per = 0.62
	}
	w := 0.0
	for _, r := range s {
		switch {
		case r >= 0x1100 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hangul, r) ||
			unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)):
			w += 1.0
		default:
			w += per
		}
	}
	return w * fs
}

// num formats an SVG coordinate.
func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "0"
	}
	return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64)
}

// exact formats a value exactly (the shortest representation that reads
// back the same float64), with "nan", "+inf" and "-inf" for the others.
func exact(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "+inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// short formats a value with 3 significant digits for labels.
func short(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return exact(v)
	case v == 0:
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// pct formats a probability as a percentage.
func pct(p float64) string {
	switch {
	case math.IsNaN(p) || math.IsInf(p, 0):
		return exact(p)
	case p == 0:
		return "0%"
	case math.Abs(p) >= 5e-5:
		return strconv.FormatFloat(p*100, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(p*100, 'e', 1, 64) + "%"
}

// pp formats a change of probability in percentage points, signed.
func pp(d float64) string {
	switch {
	case math.IsNaN(d) || math.IsInf(d, 0):
		return exact(d)
	case math.Abs(d) < 5e-5:
		return "0.00"
	}
	s := strconv.FormatFloat(d*100, 'f', 2, 64)
	if d > 0 {
		s = "+" + s
	}
	return strings.Replace(s, "-", "−", 1)
}
