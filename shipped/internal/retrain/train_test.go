package retrain

import (
	"math"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/bpe"
	"github.com/govene/govene/shipped"
)

// The local-attention defaults: zero means half the layers, a negative
// value none; the window and weight default to 1. SubjectWeight: zero is
// DefaultTrainConfig's, a negative value off.
func TestLocalDefaults(t *testing.T) {
	for _, tc := range []struct {
		name               string
		layers, local      int
		wantLocal, wantWin int
		weight, wantWeight float64
		window             int
	}{
		{name: "zero is half", layers: 8, local: 0, wantLocal: 4, wantWin: 1, wantWeight: 1},
		{name: "odd layers", layers: 6, local: 0, wantLocal: 3, wantWin: 1, wantWeight: 1},
		{name: "negative is off", layers: 8, local: -1, wantLocal: 0, wantWin: 1, wantWeight: 1},
		{name: "explicit", layers: 8, local: 2, window: 3, weight: 0.5, wantLocal: 2, wantWin: 3, wantWeight: 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := TrainConfig{Model: shipped.DefaultModel(), LocalLayers: tc.local, LocalWindow: tc.window, LocalWeight: tc.weight}
			cfg.Model.NLayer = tc.layers
			got := cfg.withDefaults()
			if got.LocalLayers != tc.wantLocal || got.LocalWindow != tc.wantWin || got.LocalWeight != tc.wantWeight {
				t.Errorf("local layers %d, window %d, weight %g; want %d, %d, %g",
					got.LocalLayers, got.LocalWindow, got.LocalWeight, tc.wantLocal, tc.wantWin, tc.wantWeight)
			}
		})
	}
	for _, tc := range []struct{ weight, want float64 }{{0, DefaultTrainConfig().SubjectWeight}, {-1, 0}, {0.5, 0.5}} {
		if got := (TrainConfig{SubjectWeight: tc.weight}).withDefaults().SubjectWeight; got != tc.want {
			t.Errorf("SubjectWeight %g: got %g after defaults, want %g", tc.weight, got, tc.want)
		}
	}
}

// farAttention averages, over heads and real query tokens, the attention
// probability on keys more than window positions back; attentionDistance
// the attended distance in sequence lengths.
func TestFarAttentionAndDistance(t *testing.T) {
	b, err := backend.Default()
	if err != nil {
		t.Fatal(err)
	}
	// One row, one head, 3 positions; the first position is padding.
	weights := []float32{
		1, 0, 0, // padding query: ignored
		0, 1, 0, // query 1 attends to itself
		0.5, 0.25, 0.25, // query 2: 0.5 on key 0 (two back), 0.25 one back, 0.25 itself
	}
	mask := []float32{0, 1, 1}
	exec, err := NewExec(b, func(w, m *Node) (*Node, *Node, *Node) {
		return farAttention(w, m, 1), farAttention(w, m, 0), attentionDistance(w, m)
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Call(tensors.FromFlatDataAndDimensions(weights, 1, 1, 3, 3), tensors.FromFlatDataAndDimensions(mask, 1, 3))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{
		0.5 / 2,                  // window 1: only query 2's 0.5 on key 0, over 2 real queries
		(0.5 + 0.25) / 2,         // window 0: everything but the query itself
		(0.5*2 + 0.25*1) / 3 / 2, // distances 2 and 1, in sequence lengths (3)
	} {
		got := float64(tensors.MustCopyFlatData[float32](outs[i])[0])
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("output %d = %g, want %g", i, got, want)
		}
	}
}

// Every landmark sentence carries its subject's token span: the tokens
// decode to the landmark's name without "The ", and the other sentences
// have none. The batches mark the subject's tokens before its last, its
// last token and the positions after it.
func TestSubjectSpans(t *testing.T) {
	sents := Generate(1, 3000)
	seqs, spans := tokenizeSubjects(sents)
	tok := bpe.GPT2()
	longest := map[string]int{}
	landmarks := 0
	for i, s := range sents {
		sp := spans[i]
		if s.SubjectTo == 0 {
			if sp != [2]int{} {
				t.Errorf("%q: span %v, want none", s.Text, sp)
			}
			continue
		}
		landmarks++
		dec, err := tok.Decode(seqs[i][sp[0]:sp[1]])
		if err != nil {
			t.Fatal(err)
		}
		got := strings.TrimSpace(dec)
		if want := s.Text[s.SubjectFrom:s.SubjectTo]; got != want {
			t.Errorf("%q: span %v decodes to %q, want %q", s.Text, sp, got, want)
		}
		longest[got] = sp[1] - sp[0]
	}
	if landmarks < 300 {
		t.Fatalf("%d landmark sentences in 3000; want about 500", landmarks)
	}
	// With window 1, after the 4 local layers the last subject token has
	// seen itself and the 4 tokens before it: 5-token subjects fit.
	for name, n := range longest {
		if n > 5 {
			t.Errorf("subject %q has %d tokens; the local layers let the last one see 5", name, n)
		}
	}

	cfg := DefaultTrainConfig()
	seq := tok.Encode("You can visit the Space Needle in Seattle" + EndOfText)
	bt := newBatcher([][]int{seq}, cfg, 50256, 1)
	bt.spans = [][2]int{{3, 6}} // " Space", " Need", "le"
	bt.next, bt.once = 0, true
	b := bt.nextBatch()
	off := cfg.SeqLen - len(seq)
	for j := range seq {
		wantKey, wantAfter, wantLast := float32(0), float32(0), float32(0)
		if j == 3 || j == 4 {
			wantKey = 1
		}
		if j == 5 {
			wantLast = 1
		}
		if j >= 6 {
			wantAfter = 1
		}
		if b.subjKey[off+j] != wantKey || b.after[off+j] != wantAfter || b.subjLast[off+j] != wantLast {
			t.Errorf("token %d: key %g, after %g, last %g; want %g, %g, %g", j, b.subjKey[off+j], b.after[off+j], b.subjLast[off+j], wantKey, wantAfter, wantLast)
		}
	}
}

// subjectAttention averages, over heads and the marked queries, the
// attention on the marked keys.
func TestSubjectAttention(t *testing.T) {
	b, err := backend.Default()
	if err != nil {
		t.Fatal(err)
	}
	weights := []float32{
		1, 0, 0, // query 0: not marked
		0.5, 0.5, 0, // query 1: 0.5 on key 0
		0.25, 0.25, 0.5, // query 2: 0.25 on key 0
	}
	exec, err := NewExec(b, subjectAttention)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call(tensors.FromFlatDataAndDimensions(weights, 1, 1, 3, 3),
		tensors.FromFlatDataAndDimensions([]float32{1, 0, 0}, 1, 3), tensors.FromFlatDataAndDimensions([]float32{0, 1, 1}, 1, 3))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := float64(tensors.MustCopyFlatData[float32](out[0])[0]), (0.5+0.25)/2; math.Abs(got-want) > 1e-6 {
		t.Errorf("subject attention %g, want %g", got, want)
	}
}
