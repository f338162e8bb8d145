package govene

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestOutputLastLogits(t *testing.T) {
	// Two examples of three positions over a vocabulary of two.
	logits := Tensor{Shape: []int{2, 3, 2}, Data: []float32{0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 3, 3}}
	last := Tensor{Shape: []int{2, 1, 2}, Data: []float32{1, 2, 3, 3}}
	for _, tt := range []struct {
		name     string
		out      *Output
		i        int
		original bool
		want     []float32
		err      string
	}{
		{"every position", &Output{Logits: logits}, 0, false, []float32{1, 2}, ""},
		{"second example", &Output{Logits: logits}, 1, false, []float32{3, 3}, ""},
		{"last position only", &Output{Logits: last}, 1, false, []float32{3, 3}, ""},
		{"original", &Output{Logits: last, Original: &logits}, 0, true, []float32{1, 2}, ""},
		{"no original", &Output{Logits: logits}, 0, true, nil, "WithOriginal"},
		{"negative example", &Output{Logits: logits}, -1, false, nil, "example -1 out of range [0, 2)"},
		{"example out of range", &Output{Logits: logits}, 2, false, nil, "example 2 out of range [0, 2)"},
		{"bad shape", &Output{Logits: Tensor{Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}, 0, false, nil, "shape [2 2]"},
		{"too few values", &Output{Logits: Tensor{Shape: []int{1, 1, 3}, Data: []float32{1}}}, 0, false, nil, "with 1 values"},
		{"nil output", nil, 0, false, nil, "nil output"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.out.LastLogits(tt.i, tt.original)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("LastLogits = %v, %v; want %v", got, err, tt.want)
			}
			probs, err := tt.out.NextTokenProbs(tt.i, tt.original)
			if err != nil || !reflect.DeepEqual(probs, Softmax(tt.want)) {
				t.Fatalf("NextTokenProbs = %v, %v; want %v", probs, err, Softmax(tt.want))
			}
		})
	}
}

func TestSoftmaxAndTopK(t *testing.T) {
	p := Softmax([]float32{0, float32(math.Log(3)), 0})
	want := []float32{0.2, 0.6, 0.2}
	for i := range p {
		if math.Abs(float64(p[i]-want[i])) > 1e-6 {
			t.Fatalf("Softmax = %v, want %v", p, want)
		}
	}
	if Softmax(nil) != nil {
		t.Error("Softmax(nil) is not nil")
	}
	label := func(id int) string { return string(rune('a' + id)) }
	for _, tt := range []struct {
		k    int
		want []TokenProb
	}{
		{2, []TokenProb{{ID: 1, Token: "b", Prob: p[1]}, {ID: 0, Token: "a", Prob: p[0]}}}, // ties keep id order
		{0, []TokenProb{}},
		{-1, []TokenProb{}},
		{9, []TokenProb{{ID: 1, Token: "b", Prob: p[1]}, {ID: 0, Token: "a", Prob: p[0]}, {ID: 2, Token: "c", Prob: p[2]}}},
	} {
		if got := TopK(p, tt.k, label); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("TopK(k=%d) = %+v, want %+v", tt.k, got, tt.want)
		}
	}
	if got := TopK(p, 1, nil); got[0].Token != "" || got[0].ID != 1 {
		t.Errorf("TopK without labels = %+v", got)
	}
}

func TestLogSumExp(t *testing.T) {
	for _, c := range []struct {
		logits []float32
		want   float64
	}{
		{[]float32{0, float32(math.Log(3))}, math.Log(4)},
		{[]float32{1000, 1000}, 1000 + math.Log(2)}, // no overflow
		{[]float32{float32(math.Inf(-1)), 0}, 0},
		{nil, math.Inf(-1)},
	} {
		if got := LogSumExp(c.logits); math.Abs(got-c.want) > 1e-6 && !(math.IsInf(got, -1) && math.IsInf(c.want, -1)) {
			t.Errorf("LogSumExp(%v) = %v, want %v", c.logits, got, c.want)
		}
	}
}
