package sweep_test

import (
	"fmt"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/shipped"
	"github.com/govene/govene/sweep"
)

// Patching the residual stream (block_output) from "The Eiffel Tower is in
// the city of" into "The Colosseum is in the city of", layer by layer at
// the landmark's last token and at the last token, on the small GPT-2 that
// ships with govene. The score is logit(" Paris") - logit(" Rome"): up to
// layer 3 the landmark lives at its own last token (patching there turns
// the answer to Paris); from layer 5 on it has moved to the last token.
func Example() {
	m, err := shipped.Load(gpt2.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	base, source := m.Encode("The Colosseum is in the city of"), m.Encode("The Eiffel Tower is in the city of")
	paris, _ := m.TokenID(" Paris")
	rome, _ := m.TokenID(" Rome")
	res, err := sweep.New(m).Patch(base, source, sweep.Config{
		Component: lm.BlockOutput,
		Positions: []int{4, base.Last()}, // the landmark's last token, the last token
		Metric:    sweep.LogitDiff(paris, rome),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("logit(Paris) - logit(Rome): base %.1f, source %.1f\n", res.Base, res.Source)
	fmt.Printf("layer %q %q\n", res.Cols[0], res.Cols[1])
	for r, row := range res.Values {
		fmt.Printf("%5s %6.1f %6.1f\n", res.Rows[r], row[0], row[1])
	}
	// Output:
	// logit(Paris) - logit(Rome): base -7.8, source 6.4
	// layer "um" " of"
	//     0    3.5   -7.8
	//     1    3.5   -7.8
	//     2    3.5   -7.8
	//     3    3.5   -7.8
	//     4   -2.2   -2.0
	//     5   -7.8    4.6
	//     6   -7.8    6.2
	//     7   -7.8    6.4
}
