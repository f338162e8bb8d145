package nb

import (
	"strconv"
	"sync"

	"github.com/govene/govene"
)

// Label returns a function that gives the text of a token id of m (a
// govene.Model of an engine or a session), as plots.CompareVectors and
// govene.TopK take it: m's text of the id, or "[id]" when m cannot name it
// (an id outside the vocabulary, or a session that has stopped), so that a
// table still shows the row. The whole vocabulary is fetched once, on the
// first call, in one m.Tokens call: a table that looks up thousands of ids
// (CompareVectors finds its highlighted tokens by text) then costs one
// round trip to a session, not one per id.
func Label(m interface {
	Dims() govene.Dims
	Tokens(ids []int) ([]string, error)
}) func(id int) string {
	vocab := sync.OnceValue(func() []string {
		d := m.Dims()
		n := d.Vocab
		if d.InputVocab > 0 {
			n = min(n, d.InputVocab) // ids past the tokenizer's have no text
		}
		ids := make([]int, n)
		for i := range ids {
			ids[i] = i
		}
		toks, err := m.Tokens(ids)
		if err != nil || len(toks) != len(ids) {
			return nil
		}
		return toks
	})
	return func(id int) string {
		if v := vocab(); id >= 0 && id < len(v) {
			return v[id]
		}
		return "[" + strconv.Itoa(id) + "]"
	}
}
