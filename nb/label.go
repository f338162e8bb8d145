package nb

import "strconv"

// Label returns a function that gives the text of a token id of m (a
// govene.Model of an engine or a session), as plots.CompareVectors and
// govene.TopK take it: m.Tokens' text of the id, or "[id]" when m cannot
// name it (an id outside the vocabulary, or a session that has stopped),
// so that a table still shows the row.
func Label(m interface {
	Tokens(ids []int) ([]string, error)
}) func(id int) string {
	return func(id int) string {
		t, err := m.Tokens([]int{id})
		if err != nil || len(t) != 1 {
			return "[" + strconv.Itoa(id) + "]"
		}
		return t[0]
	}
}
