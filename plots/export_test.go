package plots

import "testing"

func TestTokenTextOneLine(t *testing.T) {
	for _, c := range []struct{ in, token, line string }{
		{" Paris", " Paris", " Paris"},
		{"a\nb", `a\nb`, "a b"},
		{"\xe2", `\xe2`, "\uFFFD"},
		{"<|endoftext|>", "<|endoftext|>", "<|endoftext|>"},
	} {
		if got := TokenText(c.in); got != c.token {
			t.Errorf("TokenText(%q) = %q, want %q", c.in, got, c.token)
		}
		if got := OneLine(c.in); got != c.line {
			t.Errorf("OneLine(%q) = %q, want %q", c.in, got, c.line)
		}
	}
}
