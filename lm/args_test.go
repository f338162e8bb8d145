package lm

import (
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
)

// TestForwardArgsRoundTrip lays out parameters, a batch and extras with
// ForwardArgs and checks that SplitForward hands each back by name.
func TestForwardArgsRoundTrip(t *testing.T) {
	b, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := NewBatch([]Prompt{{IDs: []int{5, 6, 7}}, {IDs: []int{8}}}, 0, 9, 10)
	if err != nil {
		t.Fatal(err)
	}
	params := []*tensors.Tensor{tensors.FromValue([]float32{1, 2}), tensors.FromValue(float32(3))}
	args := ForwardArgs{Params: params, Batch: batch, Extra: []any{float32(7)}}.List()
	if len(args) != len(params)+BatchArgs+1 {
		t.Fatalf("%d arguments, want %d", len(args), len(params)+BatchArgs+1)
	}
	exec, err := graph.NewExec(b, func(in []*graph.Node) []*graph.Node {
		fn := SplitForward(in, len(params))
		if len(fn.Params) != 2 || len(fn.Extra) != 1 {
			t.Errorf("split into %d params and %d extras, want 2 and 1", len(fn.Params), len(fn.Extra))
		}
		return []*graph.Node{fn.Params[0], fn.Inputs.IDs, fn.Inputs.Mask, fn.Inputs.Positions, fn.Extra[0]}
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	if got := tensors.MustCopyFlatData[float32](outs[0]); !slices.Equal(got, []float32{1, 2}) {
		t.Errorf("params[0] = %v", got)
	}
	if got := tensors.MustCopyFlatData[int32](outs[1]); !slices.Equal(got, batch.IDs) || !slices.Equal(outs[1].Shape().Dimensions, []int{2, 3}) {
		t.Errorf("ids = %v %v, want %v [2 3]", got, outs[1].Shape(), batch.IDs)
	}
	if got := tensors.MustCopyFlatData[float32](outs[2]); !slices.Equal(got, batch.Mask) {
		t.Errorf("mask = %v, want %v", got, batch.Mask)
	}
	if got := tensors.MustCopyFlatData[int32](outs[3]); !slices.Equal(got, batch.Positions) {
		t.Errorf("positions = %v, want %v", got, batch.Positions)
	}
	if got := tensors.MustCopyFlatData[float32](outs[4]); got[0] != 7 {
		t.Errorf("extra = %v, want 7", got)
	}
	// Too few inputs: building the graph (at the first call) fails with a
	// message naming what is missing.
	short, err := graph.NewExec(b, func(in []*graph.Node) []*graph.Node {
		return []*graph.Node{SplitForward(in, 1).Params[0]}
	})
	if err == nil {
		_, err = short.Call(float32(1), float32(2))
	}
	if err == nil || !strings.Contains(err.Error(), "batch inputs") {
		t.Errorf("too few inputs: %v, want an error naming the batch inputs", err)
	}
}
