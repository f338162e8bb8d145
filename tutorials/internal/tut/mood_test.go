package tut

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestMoodScore(t *testing.T) {
	for _, c := range []struct {
		text string
		want int
	}{
		{"", 0},
		{" so happy and joyful today", 2},
		{" so sad. Today I feel awful", -2},
		{" happy and sad", 0},
		{"Happy, GLAD!", 2},         // any case, punctuation splits words
		{" unhappy and gladly", -1}, // whole words only
		{" a walk to the store", 0},
	} {
		if got := MoodScore(c.text); got != c.want {
			t.Errorf("MoodScore(%q) = %d, want %d", c.text, got, c.want)
		}
	}
}

// AddTokens decodes up to the end-of-text token and scores; Lean, Mean
// and Row count the scores.
func TestMoods(t *testing.T) {
	tok := shippedModel(t).Tokenizer()
	var m Moods
	enc := func(s string) []int { return tok.Encode(s) }
	conts := [][]int{
		enc(" so happy and glad"),
		append(enc(" sad"), append([]int{tok.EOT()}, enc(" happy happy")...)...),
		enc(" a walk"),
		enc(" happy but sad"),
	}
	if err := m.AddTokens(tok, conts); err != nil {
		t.Fatal(err)
	}
	if want := []string{" so happy and glad", " sad", " a walk", " happy but sad"}; !slices.Equal(m.Texts, want) {
		t.Errorf("texts %q, want %q", m.Texts, want)
	}
	if want := []int{2, -1, 0, 0}; !slices.Equal(m.Scores, want) {
		t.Errorf("scores %v, want %v", m.Scores, want)
	}
	if m.Lean(1) != 1 || m.Lean(-1) != 1 || m.Mean() != 0.25 {
		t.Errorf("lean happy %d, sad %d, mean %v; want 1, 1, 0.25", m.Lean(1), m.Lean(-1), m.Mean())
	}
	want := []string{"unsteered", "1/4 (25%)", "1/4 (25%)", "2/4 (50%)", "+0.25"}
	if got := m.Row("unsteered"); !slices.Equal(got, want) || len(want) != len(MoodHeader) {
		t.Errorf("Row = %q, want %q under %q", got, want, MoodHeader)
	}
	if err := m.AddTokens(tok, [][]int{{-1}}); err == nil {
		t.Errorf("AddTokens with id -1: no error")
	}
}

// MoodTable prints a line per setting and returns the same rows.
func TestMoodTable(t *testing.T) {
	a, b := &Moods{Scores: []int{1, 2}}, &Moods{Scores: []int{-1, 0}}
	var w bytes.Buffer
	tab := MoodTable(&w, "title", []string{"unsteered", "steered towards happy"}, []*Moods{a, b})
	if tab.Title != "title" || len(tab.Rows) != 2 || !slices.Equal(tab.Rows[1], b.Row("steered towards happy")) {
		t.Errorf("table %+v; want the two settings' rows", tab)
	}
	lines := strings.Split(strings.TrimSpace(w.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "unsteered             2/2 (100%)") || !strings.HasSuffix(lines[2], "-0.50") {
		t.Errorf("printed %q; want a header and a line per setting, the names padded alike", w.String())
	}
}
