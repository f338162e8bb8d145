package shipped_test

import (
	"fmt"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/shipped"
)

// The shipped model loads offline from the package's embedded files.
func ExampleDir() {
	dir, err := shipped.Dir()
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := gpt2.LoadDir(dir, gpt2.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := m.Run([]lm.Prompt{m.Encode("The Eiffel Tower is in the city of")})
	if err != nil {
		fmt.Println(err)
		return
	}
	logits, _ := r.NextTokenLogits(0)
	top := lm.TopK(lm.Softmax(logits), 1, m.Tokenizer().Token)[0]
	fmt.Printf("%q %.2f\n", top.Token, top.Prob)
	// Output: " Paris" 0.98
}
