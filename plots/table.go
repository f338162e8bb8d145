package plots

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/govene/govene"
)

// barPx is the length in pixels of a full bar (probability 1, or the largest
// with Relative).
const barPx = 160.0

// ProbTable is a table of token probabilities, e.g. a model's top-k next
// tokens from govene.TopK (or lm.TopK), one row each with its rank, token, ID, probability and
// a bar.
type ProbTable struct {
	// Title is the table's caption.
	Title string
	// Tokens are the rows, in order; their Token strings label them.
	Tokens []govene.TokenProb
	// Relative scales the bars so that the largest probability fills its
	// bar; otherwise a bar is full at probability 1.
	Relative bool
}

func (t *ProbTable) title() string { return t.Title }

func (t *ProbTable) check() error {
	return checkFilled(t, "ProbTable", "Tokens", func(t *ProbTable) int { return len(t.Tokens) })
}

func (t *ProbTable) barMax() float64 {
	if !t.Relative {
		return 1
	}
	m := 0.0
	for _, tp := range t.Tokens {
		if p := float64(tp.Prob); p > m && !math.IsInf(p, 0) {
			m = p
		}
	}
	if m == 0 {
		return 1
	}
	return m
}

// barWidth returns the bar length in pixels of p on a scale to max.
func barWidth(p, max float64) float64 {
	if math.IsNaN(p) || p <= 0 || max <= 0 {
		return 0
	}
	return math.Min(p/max, 1) * barPx
}

// tokenLabel is a token as shown in tables: escaped, or "#ID" when the
// token has no label.
func tokenLabel(tok string, id int) string {
	if tok == "" {
		return fmt.Sprintf("#%d", id)
	}
	return visible(tok)
}

// HTML returns the table as an HTML <table> styled with inline style
// attributes only (it shows the same in an untrusted notebook).
func (t *ProbTable) HTML() (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	var b strings.Builder
	openTable(&b, "govene-probs", t.Title)
	fmt.Fprintf(&b, `<thead><tr><th style="%[1]s">#</th><th style="%[2]s">token</th><th style="%[1]s">id</th><th style="%[1]s">prob</th><th style="%[2]s"></th></tr></thead><tbody>`,
		cellStyle(thStyle, true), cellStyle(thStyle, false))
	mx := t.barMax()
	td, tdNum := cellStyle(tdStyle, false), cellStyle(tdStyle, true)
	for i, tp := range t.Tokens {
		p := float64(tp.Prob)
		fmt.Fprintf(&b, `<tr title="%s"><td style="%s">%d</td><td style="%s"><code style="%s">%s</code></td><td style="%s;%s">%d</td><td style="%s">%s</td><td style="%s">%s</td></tr>`,
			esc(fmt.Sprintf("id %d: p = %s", tp.ID, exact(p))), tdNum, i+1, td, codeStyle, esc(tokenLabel(tp.Token, tp.ID)),
			tdNum, idStyle, tp.ID, tdNum, pct(p), td, barSpan(barWidth(p, mx), barColor))
	}
	b.WriteString(`</tbody></table>`)
	return tableFragment("govene-probtable", b.String()), nil
}

// Text returns the table in plain text, aligned for a fixed-width font:
// rank, token (quoted), id, probability and a bar of block characters.
func (t *ProbTable) Text() (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	cols := []textCol{{"#", true}, {"token", false}, {"id", true}, {"prob", true}, {"", false}}
	mx := t.barMax()
	rows := make([][]string, len(t.Tokens))
	for i, tp := range t.Tokens {
		p := float64(tp.Prob)
		rows[i] = []string{fmt.Sprint(i + 1), quoted(tp.Token, tp.ID), fmt.Sprint(tp.ID), pct(p), textBar(p, mx, 20)}
	}
	return formatTextTable(t.Title, cols, rows), nil
}

// tableFragment wraps a table in the fragment the tables' HTML returns:
// no <style> block, which an untrusted notebook would drop.
func tableFragment(class, body string) string {
	return `<div class="govene-plot ` + class + `" style="margin:6px 0">` + body + `</div>`
}

// SVG draws the table as SVG rows.
func (t *ProbTable) SVG() (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	const pad, rowH, fs = 10.0, 20.0, 12.0
	labels := make([]string, len(t.Tokens))
	tokW := textWidth("token", fs, false)
	for i, tp := range t.Tokens {
		labels[i] = truncate(tokenLabel(tp.Token, tp.ID), 40)
		tokW = math.Max(tokW, textWidth(labels[i], fs, true))
	}
	xRank := pad + 24
	xTok := xRank + 10
	xProb := xTok + tokW + 16 + 60
	xBar := xProb + 10
	width := math.Max(xBar+barPx+pad, pad+textWidth(oneLine(t.Title), 15, false)*1.1+pad)
	var b svgBuilder
	top := pad
	if t.Title != "" {
		top += 28
	}
	height := top + rowH*float64(len(t.Tokens)+1) + pad
	b.open(width, height, t.Title)
	b.title(pad, t.Title)
	y := top + 14
	b.printf(`<g font-weight="bold">`)
	b.text(xRank, y, fs, "end", "", false, "#", "")
	b.text(xTok, y, fs, "", "", false, "token", "")
	b.text(xProb, y, fs, "end", "", false, "prob", "")
	b.WriteString(`</g>`)
	b.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999999"/>`, num(pad), num(top+rowH-1), num(width-pad), num(top+rowH-1))
	mx := t.barMax()
	for i, tp := range t.Tokens {
		p := float64(tp.Prob)
		ry := top + rowH*float64(i+1)
		y := ry + 14
		tip := fmt.Sprintf("%s (id %d): p = %s", tokenLabel(tp.Token, tp.ID), tp.ID, exact(p))
		b.printf(`<g><title>%s</title>`, esc(tip))
		b.text(xRank, y, fs, "end", "", false, fmt.Sprint(i+1), "")
		b.text(xTok, y, fs, "", "", true, labels[i], "")
		b.text(xProb, y, fs, "end", "", false, pct(p), "")
		b.printf(`<rect x="%s" y="%s" width="%s" height="10" fill="#6a51a3"/>`, num(xBar), num(ry+5), num(barWidth(p, mx)))
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return b.String(), nil
}

// CompareOptions configures a Comparison.
type CompareOptions struct {
	// BeforeLabel and AfterLabel head the two probability columns (default
	// "base" and "intervened").
	BeforeLabel, AfterLabel string
}

// ComparisonRow is one token of a Comparison.
type ComparisonRow struct {
	ID    int
	Token string
	// Before and After are its probabilities; HasBefore and HasAfter say
	// whether they are known (a token missing from one of CompareTable's
	// lists has no probability there).
	Before, After       float32
	HasBefore, HasAfter bool
	// Extra marks a token the caller asked to always show.
	Extra bool
}

// Comparison shows the next-token probabilities of a base run and an
// intervened run side by side, with the change in percentage points
// (green up, red down). Make one with CompareTable or CompareVectors.
type Comparison struct {
	Title   string
	Options CompareOptions
	Rows    []ComparisonRow
}

func (c *Comparison) title() string { return c.Title }

type tokKey struct {
	id  int
	tok string
}

// CompareTable compares two lists of token probabilities, e.g. govene.TopK of
// the base and the intervened run: the rows are the tokens of before in its
// order, then those only in after. A token is the same in both lists when
// its ID and Token are.
func CompareTable(title string, before, after []govene.TokenProb, opts CompareOptions) *Comparison {
	c := &Comparison{Title: title, Options: opts}
	at := map[tokKey]int{}
	for _, tp := range before {
		k := tokKey{tp.ID, tp.Token}
		if _, dup := at[k]; dup {
			continue
		}
		at[k] = len(c.Rows)
		c.Rows = append(c.Rows, ComparisonRow{ID: tp.ID, Token: tp.Token, Before: tp.Prob, HasBefore: true})
	}
	seen := map[tokKey]bool{}
	for _, tp := range after {
		k := tokKey{tp.ID, tp.Token}
		if seen[k] {
			continue
		}
		seen[k] = true
		if i, ok := at[k]; ok {
			c.Rows[i].After, c.Rows[i].HasAfter = tp.Prob, true
			continue
		}
		c.Rows = append(c.Rows, ComparisonRow{ID: tp.ID, Token: tp.Token, After: tp.Prob, HasAfter: true})
	}
	return c
}

// CompareVectors compares two full probability vectors over the vocabulary
// (e.g. lm.Softmax of the base and intervened logits): the rows are the top
// k tokens of before, then those of after's top k not yet shown, then the
// extra tokens (e.g. " Rome", " Paris"), found by their label, in the order
// given. label names token IDs (lm's tokenizers' Token method); it may be
// nil when extra is empty.
func CompareVectors(title string, before, after []float32, label func(id int) string, k int, opts CompareOptions, extra ...string) (*Comparison, error) {
	switch {
	case len(before) == 0:
		return nil, errors.New("plots: CompareVectors: before: empty")
	case len(after) != len(before):
		return nil, fmt.Errorf("plots: CompareVectors: after has %d probabilities, but before has %d", len(after), len(before))
	case k < 0:
		return nil, fmt.Errorf("plots: CompareVectors: k: %d: want 0 or more", k)
	case label == nil && len(extra) > 0:
		return nil, errors.New("plots: CompareVectors: label: nil, but extra tokens need it to be found")
	}
	c := &Comparison{Title: title, Options: opts}
	shown := map[int]int{}
	add := func(id int, isExtra bool) {
		if i, ok := shown[id]; ok {
			c.Rows[i].Extra = c.Rows[i].Extra || isExtra
			return
		}
		shown[id] = len(c.Rows)
		r := ComparisonRow{ID: id, Before: before[id], After: after[id], HasBefore: true, HasAfter: true, Extra: isExtra}
		if label != nil {
			r.Token = label(id)
		}
		c.Rows = append(c.Rows, r)
	}
	for _, tp := range govene.TopK(before, k, nil) {
		add(tp.ID, false)
	}
	for _, tp := range govene.TopK(after, k, nil) {
		add(tp.ID, false)
	}
	if len(extra) > 0 {
		want := map[string]int{}
		for _, e := range extra {
			want[e] = -1
		}
		left := len(want)
		for id := 0; id < len(before) && left > 0; id++ {
			l := label(id)
			if found, ok := want[l]; ok && found < 0 {
				want[l] = id
				left--
			}
		}
		for i, e := range extra {
			if want[e] < 0 {
				return nil, fmt.Errorf("plots: CompareVectors: extra[%d] %q: no token ID has that label", i, e)
			}
			add(want[e], true)
		}
	}
	return c, nil
}

func (c *Comparison) check() error {
	return checkFilled(c, "Comparison", "Rows", func(c *Comparison) int { return len(c.Rows) })
}

func (c *Comparison) labels() (before, after string) {
	before, after = c.Options.BeforeLabel, c.Options.AfterLabel
	if before == "" {
		before = "base"
	}
	if after == "" {
		after = "intervened"
	}
	return oneLine(before), oneLine(after)
}

// delta returns the row's change, its text and its class: "up", "down" or
// "none" (unknown or no change).
func (r ComparisonRow) delta() (d float64, text, class string) {
	if !r.HasBefore || !r.HasAfter {
		return math.NaN(), "–", "none"
	}
	d = float64(r.After) - float64(r.Before)
	text = pp(d)
	switch {
	case math.IsNaN(d):
		class = "none"
	case d >= 5e-5:
		class = "up"
	case d <= -5e-5:
		class = "down"
	default:
		class = "none"
	}
	return d, text, class
}

func probText(p float32, known bool) string {
	if !known {
		return "–"
	}
	return pct(float64(p))
}

func (r ComparisonRow) tip(bl, al string) string {
	s := fmt.Sprintf("%s (id %d):", tokenLabel(r.Token, r.ID), r.ID)
	if r.HasBefore {
		s += fmt.Sprintf(" %s %s", bl, exact(float64(r.Before)))
	}
	if r.HasAfter {
		s += fmt.Sprintf(", %s %s", al, exact(float64(r.After)))
	}
	if d, _, _ := r.delta(); !math.IsNaN(d) {
		s += ", Δ " + exact(d)
	}
	if r.Extra {
		s += " (always shown)"
	}
	return s
}

// HTML returns the comparison as an HTML <table> styled with inline style
// attributes only (it shows the same in an untrusted notebook). Every
// heading stands over its own column: a probability's heading over the
// probability, right-aligned as it is, and its bar's column unheaded.
func (c *Comparison) HTML() (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	bl, al := c.labels()
	var b strings.Builder
	openTable(&b, "govene-compare", c.Title)
	th, thNum := cellStyle(thStyle, false), cellStyle(thStyle, true)
	fmt.Fprintf(&b, `<thead><tr><th style="%[1]s">token</th><th style="%[2]s">id</th><th style="%[2]s">%[3]s</th><th style="%[1]s"></th><th style="%[2]s">%[4]s</th><th style="%[1]s"></th><th style="%[2]s">Δ pp</th></tr></thead><tbody>`,
		th, thNum, esc(bl), esc(al))
	td, tdNum := cellStyle(tdStyle, false), cellStyle(tdStyle, true)
	for _, r := range c.Rows {
		_, dt, dc := r.delta()
		rowStyle := ""
		if r.Extra {
			rowStyle = ` style="` + extraStyle + `"`
		}
		fmt.Fprintf(&b, `<tr%s title="%s"><td style="%s"><code style="%s">%s</code></td><td style="%s;%s">%d</td>`,
			rowStyle, esc(r.tip(bl, al)), td, codeStyle, esc(tokenLabel(r.Token, r.ID)), tdNum, idStyle, r.ID)
		fmt.Fprintf(&b, `<td style="%s">%s</td><td style="%s">%s</td>`,
			tdNum, probText(r.Before, r.HasBefore), td, barSpan(barWidth(float64(r.Before), 1), barColor))
		fmt.Fprintf(&b, `<td style="%s">%s</td><td style="%s">%s</td>`,
			tdNum, probText(r.After, r.HasAfter), td, barSpan(barWidth(float64(r.After), 1), afterColor))
		fmt.Fprintf(&b, `<td style="%s;color:%s">%s</td></tr>`, tdNum, deltaColors[dc], esc(dt))
	}
	b.WriteString(`</tbody></table>`)
	return tableFragment("govene-comparison", b.String()), nil
}

// Text returns the comparison in plain text, aligned for a fixed-width
// font: token (quoted), id, the before probability and its bar, the after
// probability and its bar, and the change in percentage points. Each
// heading is aligned as its column is, so "clean" ends where the clean
// probabilities end, not over a bar.
func (c *Comparison) Text() (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	bl, al := c.labels()
	cols := []textCol{{"token", false}, {"id", true}, {bl, true}, {"", false}, {al, true}, {"", false}, {"Δ pp", true}}
	rows := make([][]string, len(c.Rows))
	for i, r := range c.Rows {
		_, dt, _ := r.delta()
		rows[i] = []string{quoted(r.Token, r.ID), fmt.Sprint(r.ID),
			probText(r.Before, r.HasBefore), textBar(float64(r.Before), 1, 10),
			probText(r.After, r.HasAfter), textBar(float64(r.After), 1, 10), dt}
		if !r.HasBefore {
			rows[i][3] = ""
		}
		if !r.HasAfter {
			rows[i][5] = ""
		}
	}
	return formatTextTable(c.Title, cols, rows), nil
}

// SVG draws the comparison as SVG rows.
func (c *Comparison) SVG() (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	bl, al := c.labels()
	const pad, rowH, fs, bar = 10.0, 20.0, 12.0, 100.0
	labels := make([]string, len(c.Rows))
	tokW := textWidth("token", fs, false)
	for i, r := range c.Rows {
		labels[i] = truncate(tokenLabel(r.Token, r.ID), 40)
		tokW = math.Max(tokW, textWidth(labels[i], fs, true))
	}
	xTok := pad
	xB := xTok + tokW + 16 + 60 // right edge of the before probability
	xBBar := xB + 8
	xA := xBBar + bar + 16 + 60
	xABar := xA + 8
	xD := xABar + bar + 16 + 60
	width := math.Max(xD+pad, pad+textWidth(oneLine(c.Title), 15, false)*1.1+pad)
	top := pad
	if c.Title != "" {
		top += 28
	}
	height := top + rowH*float64(len(c.Rows)+1) + pad
	var b svgBuilder
	b.open(width, height, c.Title)
	b.title(pad, c.Title)
	y := top + 14
	b.WriteString(`<g font-weight="bold">`)
	b.text(xTok, y, fs, "", "", false, "token", "")
	b.text(xB, y, fs, "end", "", false, bl, "")
	b.text(xA, y, fs, "end", "", false, al, "")
	b.text(xD, y, fs, "end", "", false, "Δ pp", "")
	b.WriteString(`</g>`)
	b.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999999"/>`, num(pad), num(top+rowH-1), num(width-pad), num(top+rowH-1))
	for i, r := range c.Rows {
		ry := top + rowH*float64(i+1)
		y := ry + 14
		_, dt, dc := r.delta()
		b.printf(`<g><title>%s</title>`, esc(r.tip(bl, al)))
		if r.Extra {
			b.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="#fffbe6"/>`, num(pad), num(ry), num(width-2*pad), num(rowH))
		}
		b.text(xTok, y, fs, "", "", true, labels[i], "")
		b.text(xB, y, fs, "end", "", false, probText(r.Before, r.HasBefore), "")
		b.printf(`<rect x="%s" y="%s" width="%s" height="10" fill="#6a51a3"/>`, num(xBBar), num(ry+5), num(barWidth(float64(r.Before), 1)*bar/barPx))
		b.text(xA, y, fs, "end", "", false, probText(r.After, r.HasAfter), "")
		b.printf(`<rect x="%s" y="%s" width="%s" height="10" fill="#e6550d"/>`, num(xABar), num(ry+5), num(barWidth(float64(r.After), 1)*bar/barPx))
		b.printf(`<text x="%s" y="%s" font-size="%s" text-anchor="end" fill="%s">%s</text>`, num(xD), num(y), num(fs), deltaColors[dc], esc(dt))
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return b.String(), nil
}
