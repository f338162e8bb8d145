package lm_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
)

// A StepHook's Outputs come back per pass (the prompt pass, then one per
// fed token) without changing the tokens; none leaves Outputs nil, and an
// output the hook never set is an error, not a panic.
func TestDecoderOutputs(t *testing.T) {
	cfg := gpt2.DefaultConfig()
	cfg.NLayer, cfg.NHead, cfg.NEmbd, cfg.NPositions, cfg.VocabSize = 2, 2, 8, 32, 40
	m, err := gpt2.Random(cfg, 3, gpt2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := lm.NewBatch([]lm.Prompt{{IDs: []int{1, 2, 3}}, {IDs: []int{4}}}, 0, m.PadID(), 40)
	if err != nil {
		t.Fatal(err)
	}
	s := lm.Sampling{MaxNewTokens: 4}
	plain, err := (&lm.Decoder{Model: m}).Generate(pb, s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := lm.Site{Layer: 1, Component: lm.BlockOutput}
	for _, tt := range []struct {
		name   string
		site   lm.Site // the site whose value is returned
		outs   bool    // the hook returns outputs
		passes int
		err    string
	}{
		{"no outputs", at, false, 0, ""},
		{"block output", at, true, 4, ""},
		{"a site never reached", lm.Site{Layer: 7, Component: lm.BlockOutput}, true, 0, "extra output 0 was never set"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := &lm.Decoder{Model: m, Hooks: func(_ []*graph.Node, _ bool) lm.StepHook {
				var seen *graph.Node
				h := lm.StepHook{Hook: func(s lm.Site, x *graph.Node) *graph.Node {
					if s == tt.site {
						seen = x
					}
					return x
				}}
				if tt.outs {
					h.Outputs = func() []*graph.Node { return []*graph.Node{seen} }
				}
				return h
			}}
			gen, err := d.Generate(pb, s, nil, nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(gen.Tokens, plain.Tokens, slices.Equal) {
				t.Errorf("tokens %v, without hooks %v", gen.Tokens, plain.Tokens)
			}
			if len(gen.Outputs) != tt.passes {
				t.Fatalf("%d passes of outputs, want %d", len(gen.Outputs), tt.passes)
			}
			for j, outs := range gen.Outputs {
				want := []int{2, 1, 8}
				if j == 0 {
					want[1] = 3
				}
				if len(outs) != 1 {
					t.Fatalf("pass %d: %d outputs, want 1", j, len(outs))
				}
				if got := outs[0].Shape().Dimensions; !slices.Equal(got, want) {
					t.Errorf("pass %d: shape %v, want %v", j, got, want)
				}
			}
		})
	}
}
