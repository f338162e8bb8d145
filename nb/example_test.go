package nb_test

import (
	"fmt"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/nb"
)

// A notebook's first cell loads the model once; later cells stop with the
// error under them (nb.Must, nb.Check) instead of a Go stack trace.
func Example() {
	m := nb.Must(nb.LoadModel())
	paris := nb.Must(nb.TokenID(m, " Paris"))
	r := nb.Must(m.Run([]lm.Prompt{m.Encode("The Eiffel Tower is in the city of")}))
	logits := nb.Must(r.NextTokenLogits(0))
	fmt.Printf("P(%q) = %.2f\n", m.Tokenizer().Token(paris), lm.Softmax(logits)[paris])
	fmt.Println("GPT-2 small's layer 8 is block", nb.Layer(m, 8))
	// Output:
	// P(" Paris") = 0.98
	// GPT-2 small's layer 8 is block 6
}
