package govene

import (
	"fmt"
	"strings"
)

// Prompt is one tokenized text: its ids and, for labels, each token's text.
type Prompt struct {
	Text   string   `json:"text,omitempty"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens,omitempty"`
}

// Len returns the number of tokens.
func (p Prompt) Len() int { return len(p.IDs) }

// Last returns the position of the last token (Len()-1; -1 when empty).
func (p Prompt) Last() int { return len(p.IDs) - 1 }

// String shows the tokens separated by "|", or the ids when there are no
// token strings.
func (p Prompt) String() string {
	if len(p.Tokens) == len(p.IDs) && len(p.IDs) > 0 {
		return fmt.Sprintf("%q", strings.Join(p.Tokens, "|"))
	}
	return fmt.Sprint(p.IDs)
}
