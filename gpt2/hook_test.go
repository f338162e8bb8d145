package gpt2

import (
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
)

// runHooked runs ids through m.BuildForward with hook, the way pv splices
// interventions into the graph.
func runHooked(t *testing.T, m *Model, ids []int, hook lm.Hook) []float32 {
	t.Helper()
	b, err := m.NewBatch([]lm.Prompt{{IDs: ids}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := len(m.Params())
	exec, err := NewExec(m.Backend(), func(in []*Node) *Node {
		return m.BuildForward(in[:n], lm.Inputs{IDs: in[n], Mask: in[n+1], Positions: in[n+2]}, hook)
	})
	if err != nil {
		t.Fatal(err)
	}
	args := []any{}
	for _, p := range m.Params() {
		args = append(args, p)
	}
	args = append(args, tensors.FromFlatDataAndDimensions(b.IDs, 1, b.Len),
		tensors.FromFlatDataAndDimensions(b.Mask, 1, b.Len),
		tensors.FromFlatDataAndDimensions(b.Positions, 1, b.Len))
	out, err := exec.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out[0])
}

// TestHooksReplaceSites checks that a hook's return value replaces the site's
// value: hooks that should agree do, and hooks that should change the output
// do.
func TestHooksReplaceSites(t *testing.T) {
	m, err := Random(tinyConfig(), 5, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{3, 1, 4, 1, 5, 9}
	plain := runHooked(t, m, ids, nil)
	seen := map[lm.Site]bool{}
	identity := runHooked(t, m, ids, func(s lm.Site, x *Node) *Node { seen[s] = true; return x })
	if !slices.Equal(plain, identity) {
		t.Error("an identity hook changed the logits")
	}
	if want := 2*len(lm.LayerComponents) + len(lm.GlobalComponents); len(seen) != want {
		t.Errorf("hook called at %d sites, want %d", len(seen), want)
	}
	last := m.Config().NLayer - 1
	// Zeroing the last MLP's output equals making the block output the
	// mid-block residual.
	var mid *Node
	zeroMLP := runHooked(t, m, ids, func(s lm.Site, x *Node) *Node {
		if s == (lm.Site{Layer: last, Component: lm.MLPOutput}) {
			return ZerosLike(x)
		}
		return x
	})
	skipMLP := runHooked(t, m, ids, func(s lm.Site, x *Node) *Node {
		switch s {
		case lm.Site{Layer: last, Component: lm.ResidMid}:
			mid = x
		case lm.Site{Layer: last, Component: lm.BlockOutput}:
			return mid
		}
		return x
	})
	if slices.Equal(zeroMLP, plain) {
		t.Error("zeroing mlp_output did not change the logits")
	}
	for i := range zeroMLP {
		if d := zeroMLP[i] - skipMLP[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("logit %d: zeroed mlp_output %g, block_output := resid_mid %g", i, zeroMLP[i], skipMLP[i])
		}
	}
	doubled := runHooked(t, m, ids, func(s lm.Site, x *Node) *Node {
		if s.Component == lm.Logits {
			return MulScalar(x, 2)
		}
		return x
	})
	for i := range doubled {
		if doubled[i] != 2*plain[i] {
			t.Fatalf("logit %d: doubled %g, plain %g", i, doubled[i], plain[i])
		}
	}
}
