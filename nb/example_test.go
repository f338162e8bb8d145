package nb_test

import (
	"fmt"

	"github.com/govene/govene"
	"github.com/govene/govene/engine"
	"github.com/govene/govene/nb"
)

// A notebook's first cell declares the engine and the model; later cells
// stop with the error under them (nb.Must, nb.Check) instead of a Go stack
// trace. A notebook connects to a session with session.Connect; this
// example runs the same calls in process with engine.New.
func Example() {
	e := nb.Must(engine.New(engine.Options{}))
	m := nb.Must(e.Model(""))
	paris := nb.Must(m.TokenID(" Paris"))
	p := nb.Must(m.Encode("The Eiffel Tower is in the city of"))
	out := nb.Must(m.Run([]govene.Prompt{p}))
	probs := nb.Must(out.NextTokenProbs(0, false))
	fmt.Printf("P(%q) = %.2f\n", nb.Label(m)(paris), probs[paris])
	fmt.Println("GPT-2 small's layer 8 is block", nb.Layer(m, 8))
	// Output:
	// P(" Paris") = 0.98
	// GPT-2 small's layer 8 is block 6
}
