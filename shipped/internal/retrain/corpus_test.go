package retrain

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The corpus is a pure function of the seed, and every sentence ends with
// the end-of-text token.
func TestCorpusDeterministic(t *testing.T) {
	a, b := Generate(7, 2000), Generate(7, 2000)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Generate(7, 2000) differs between calls")
	}
	if reflect.DeepEqual(a, Generate(8, 2000)) {
		t.Error("seeds 7 and 8 give the same corpus")
	}
	if !reflect.DeepEqual(Generate(7, 100), a[:100]) {
		t.Error("a shorter corpus is not a prefix of a longer one")
	}
	kinds := map[Kind]int{}
	for _, s := range a {
		kinds[s.Kind]++
		if !strings.HasSuffix(s.Text, EndOfText) || strings.Count(s.Text, EndOfText) != 1 {
			t.Fatalf("%q does not end with one %s", s.Text, EndOfText)
		}
	}
	for k := Facts; k <= Filler; k++ {
		if kinds[k] < 100 {
			t.Errorf("%d %s sentences in 2000, want at least 100", kinds[k], k)
		}
	}
	ids := Tokenize(a[:50])
	for i, s := range ids {
		if s[len(s)-1] != 50256 || slices.Contains(s[:len(s)-1], 50256) {
			t.Errorf("sentence %d %q: ids %v should end with 50256 alone", i, a[i].Text, s)
		}
	}
}

// The facts and names the tutorials use are single tokens and are taught.
func TestCorpusCoversTutorials(t *testing.T) {
	text := map[string]bool{}
	for _, s := range Generate(1, 40000) {
		text[strings.TrimSuffix(s.Text, EndOfText)] = true
	}
	for _, want := range []string{
		"The Eiffel Tower is in the city of Paris", "The Colosseum is in the city of Rome",
		"The Space Needle is in downtown Seattle", "The Space Needle is located in Seattle",
		"The capital of Spain is Madrid", "The capital of Italy is Rome", "The language of Spain is Spanish",
	} {
		if !text[want] {
			t.Errorf("the training corpus (seed 1, 40000) lacks %q", want)
		}
	}
}
