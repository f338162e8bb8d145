package plots

// TokenText returns a token as the plots show it: invalid UTF-8 bytes
// (GPT-2's byte-level tokens can be parts of a character) as \xNN,
// newlines, tabs and other control characters as Go escapes, everything
// else unchanged, leading and trailing spaces included. The result holds
// only characters XML 1.0 allows, but is not escaped: escape it before
// putting it in HTML. It never fails.
func TokenText(s string) string { return visible(s) }

// OneLine returns free text (a title) safe for XML on one line: invalid
// UTF-8 as U+FFFD, control characters dropped, newlines and tabs as
// spaces. It is not escaped and never fails.
func OneLine(s string) string { return oneLine(s) }

// The fonts of every plot and table, as CSS font-family lists: SansFont for
// text, MonoFont for tokens.
const (
	SansFont = sansFont
	MonoFont = monoFont
)

// Short formats v with 3 significant digits, as the plots' labels do
// ("0.123", "1.5e+03"), and NaN and infinities as "nan", "+inf", "-inf".
func Short(v float64) string { return short(v) }
