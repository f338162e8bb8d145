package facts

import "testing"

// TestTaughtData checks the invariants the corpus generator and the
// notebooks rely on: no empty names, no duplicate landmarks or countries,
// and two mood lists of the same length with no word in both.
func TestTaughtData(t *testing.T) {
	seen := map[string]bool{}
	for i, l := range Landmarks {
		if l.Name == "" || l.City == "" {
			t.Errorf("Landmarks[%d] = %+v has an empty field", i, l)
		}
		if seen[l.Name] {
			t.Errorf("Landmarks[%d]: %q appears twice", i, l.Name)
		}
		seen[l.Name] = true
	}
	for i, c := range Countries {
		if c.Country == "" || c.Capital == "" {
			t.Errorf("Countries[%d] = %+v has an empty country or capital", i, c)
		}
		if seen[c.Country] {
			t.Errorf("Countries[%d]: %q appears twice", i, c.Country)
		}
		seen[c.Country] = true
	}
	if len(HappyWords) != len(SadWords) || len(HappyWords) == 0 {
		t.Errorf("%d happy words and %d sad words, want the same non-zero number", len(HappyWords), len(SadWords))
	}
	for _, h := range HappyWords {
		for _, s := range SadWords {
			if h == s {
				t.Errorf("%q is both a happy and a sad word", h)
			}
		}
	}
	if len(Names) < 2 {
		t.Errorf("%d names, want at least 2 for IOI pairs", len(Names))
	}
}
