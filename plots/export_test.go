package plots

import (
	"math"
	"testing"
)

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

func TestShort(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{{0, "0"}, {0.12345, "0.123"}, {1500, "1.5e+03"}, {math.NaN(), "nan"}, {math.Inf(-1), "-inf"}} {
		if got := Short(c.in); got != c.want {
			t.Errorf("Short(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
