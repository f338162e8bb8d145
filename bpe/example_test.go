package bpe_test

import (
	"fmt"

	"github.com/govene/govene/bpe"
)

func ExampleGPT2() {
	tok := bpe.GPT2()
	ids := tok.Encode("The Eiffel Tower is in the city of")
	fmt.Println(ids)
	fmt.Printf("%q\n", tok.Tokens(ids))
	id, _ := tok.ID(" Paris")
	fmt.Println(id, tok.EOT(), tok.VocabSize())
	text, err := tok.Decode(append(ids, id))
	fmt.Println(text, err)
	// Output:
	// [464 412 733 417 8765 318 287 262 1748 286]
	// ["The" " E" "iff" "el" " Tower" " is" " in" " the" " city" " of"]
	// 6342 50256 50257
	// The Eiffel Tower is in the city of Paris <nil>
}
