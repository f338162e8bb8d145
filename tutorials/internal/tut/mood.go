package tut

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/govene/govene/bpe"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/shipped/facts"
)

// MoodScore counts the mood words of text, whole words in any case: the
// happy adjectives of the shipped model's corpus (facts.HappyWords) minus
// the sad ones (facts.SadWords).
func MoodScore(text string) int {
	score := 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if slices.Contains(facts.HappyWords, w) {
			score++
		} else if slices.Contains(facts.SadWords, w) {
			score--
		}
	}
	return score
}

// Moods are generated continuations and their mood scores (MoodScore),
// continuation i at Texts[i] and Scores[i].
type Moods struct {
	Texts  []string
	Scores []int
}

// AddTokens decodes each of the continuations' token ids, up to the first
// end-of-text token, and adds the text with its score. It returns the
// tokenizer's error for an id it does not know.
func (m *Moods) AddTokens(tok *bpe.Tokenizer, continuations [][]int) error {
	for _, ids := range continuations {
		if i := slices.Index(ids, tok.EOT()); i >= 0 {
			ids = ids[:i]
		}
		text, err := tok.Decode(ids)
		if err != nil {
			return err
		}
		m.Texts, m.Scores = append(m.Texts, text), append(m.Scores, MoodScore(text))
	}
	return nil
}

// Lean counts the continuations whose score has the sign of sign: happy
// for 1, sad for -1.
func (m *Moods) Lean(sign int) int {
	n := 0
	for _, v := range m.Scores {
		if v*sign > 0 {
			n++
		}
	}
	return n
}

// Mean is the mean score: happy words minus sad words per continuation
// (NaN for none).
func (m *Moods) Mean() float64 {
	t := 0
	for _, v := range m.Scores {
		t += v
	}
	return float64(t) / float64(len(m.Scores))
}

// MoodHeader is the header of a table of Moods' Row.
var MoodHeader = []string{"setting", "lean happy", "lean sad", "neither", "mean score (happy - sad words)"}

// Row returns a table row (MoodHeader's columns) of the setting name: how
// many continuations lean happy, sad and neither as "k/n (p%)", and the
// mean score.
func (m *Moods) Row(name string) []string {
	n := len(m.Scores)
	hp, sd := m.Lean(1), m.Lean(-1)
	return []string{name, Share(hp, n), Share(sd, n), Share(n-hp-sd, n), fmt.Sprintf("%+.2f", m.Mean())}
}

// Share formats k of n as "k/n (p%)".
func Share(k, n int) string { return fmt.Sprintf("%d/%d (%.0f%%)", k, n, 100*float64(k)/float64(n)) }

// MoodTable prints one line per setting to w, names[i] with moods[i]'s
// Row, under MoodHeader, and returns the same as a table titled title.
// Settings without a name or moods beyond either list are left out.
func MoodTable(w io.Writer, title string, names []string, moods []*Moods) *plots.TextTable {
	n := min(len(names), len(moods))
	width := len(MoodHeader[0])
	for _, name := range names[:n] {
		width = max(width, len(name))
	}
	t := &plots.TextTable{Title: title, Header: MoodHeader}
	fmt.Fprintf(w, "%-*s %-12s %-12s %-12s %s\n", width, MoodHeader[0], MoodHeader[1], MoodHeader[2], MoodHeader[3], "mean score")
	for i, m := range moods[:n] {
		row := m.Row(names[i])
		t.Rows = append(t.Rows, row)
		fmt.Fprintf(w, "%-*s %-12s %-12s %-12s %s\n", width, row[0], row[1], row[2], row[3], row[4])
	}
	return t
}
