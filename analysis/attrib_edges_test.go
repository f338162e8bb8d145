package analysis

import (
	"math"
	"strings"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
)

// rowSum returns the sum of grid's row r over positions.
func rowSum(grid [][]float64, r int) float64 {
	s := 0.0
	for _, v := range grid[r] {
		s += v
	}
	return s
}

// TestEdgeAttributionSums checks edge scores against node attribution:
// an upstream node's gradient is the sum of the gradients of the inputs
// that read it, so its edges sum to its own attribution; and a downstream
// input is the sum of the upstream outputs before it (plus constants), so
// its edges sum to (clean - corrupted input) x its input's gradient, which
// node attribution at block_input, resid_mid, block_output and the
// attention and MLP outputs gives by differences.
func TestEdgeAttributionSums(t *testing.T) {
	for _, tc := range []struct {
		name           string
		model          func(testing.TB) models.Model
		clean, corrupt lm.Prompt
	}{
		{"gpt2 odd", oddModel, ids(5, 17, 300, 42, 7, 99), ids(5, 17, 301, 42, 8, 99)},
		{"llama", llamaModel, ids(3, 40, 200, 9, 77, 1), ids(3, 41, 200, 9, 78, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.model(t)
			d := m.Dims()
			a := NewAttributor(m)
			metric := logitDiff(10, 20)
			edges, err := a.Edges(tc.clean, tc.corrupt, metric)
			if err != nil {
				t.Fatal(err)
			}
			nodes, err := a.Patch(tc.clean, tc.corrupt, AttribConfig{Metric: metric, Components: []lm.Component{
				lm.BlockInput, lm.HeadResult, lm.MLPOutput, lm.ResidMid, lm.BlockOutput, lm.AttentionOutput}})
			if err != nil {
				t.Fatal(err)
			}
			bi, hr, mo, rm, bo, ao := nodes.Sites[0].Attribution, nodes.Sites[1].Attribution, nodes.Sites[2].Attribution,
				nodes.Sites[3].Attribution, nodes.Sites[4].Attribution, nodes.Sites[5].Attribution
			if got, want := len(edges.Upstream), 1+d.Layers*(d.Heads+1); got != want {
				t.Fatalf("%d upstream nodes, want %d", got, want)
			}
			if got, want := len(edges.Downstream), 2*d.Layers+1; got != want {
				t.Fatalf("%d downstream nodes, want %d", got, want)
			}
			near := func(what string, got, want float64) {
				t.Helper()
				if math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
					t.Errorf("%s: edges sum to %g, node attribution %g", what, got, want)
				}
			}
			// Outgoing: each upstream node's edges.
			want := []float64{rowSum(bi, 0)}
			for l := range d.Layers {
				for h := range d.Heads {
					want = append(want, rowSum(hr, l*d.Heads+h))
				}
				want = append(want, rowSum(mo, l))
			}
			for u, label := range edges.Upstream {
				near("from "+label, rowSum(edges.Scores, u), want[u])
			}
			// Incoming: each downstream node's edges.
			in := func(v int) float64 {
				s := 0.0
				for u := range edges.Upstream {
					s += edges.Scores[u][v]
				}
				return s
			}
			for l := range d.Layers {
				near(edges.Downstream[2*l], in(2*l), rowSum(bi, l)-rowSum(rm, l)+rowSum(ao, l))
				near(edges.Downstream[2*l+1], in(2*l+1), rowSum(rm, l)-rowSum(bo, l)+rowSum(mo, l))
			}
			near("logits", in(2*d.Layers), rowSum(bo, d.Layers-1))
			// Edges lists the pairs where u writes before v reads, largest
			// first: embed feeds all 2L+1 inputs, layer l's heads 2(L-l)
			// each (later attention, this and later MLPs, logits), its MLP
			// 2(L-l)-1.
			L, H := d.Layers, d.Heads
			if got, want := len(edges.Edges), 2*L+1+H*L*(L+1)+L*L; got != want {
				t.Errorf("%d edges, want %d", got, want)
			}
			for i := 1; i < len(edges.Edges); i++ {
				if math.Abs(edges.Edges[i].Score) > math.Abs(edges.Edges[i-1].Score) {
					t.Fatalf("edges not sorted by |score| at %d", i)
				}
			}
			if edges.Clean != nodes.Clean || edges.Corrupt != nodes.Corrupt {
				t.Errorf("metrics %g/%g, node attribution's %g/%g", edges.Clean, edges.Corrupt, nodes.Clean, nodes.Corrupt)
			}
		})
	}
}

// TestEdgeAttributionNeedsSequentialBlocks checks the families whose
// residual stream is not a plain sum of attention and MLP outputs.
func TestEdgeAttributionNeedsSequentialBlocks(t *testing.T) {
	for _, tc := range []struct{ family, want string }{
		{"neox", "no resid_mid site"},
		{"gemma2", "needs sequential blocks"},
	} {
		t.Run(tc.family, func(t *testing.T) {
			m := loadModel(t, "..", "models", "testdata", tc.family)
			_, err := EdgeAttributionPatch(m, ids(1, 2, 3), ids(1, 4, 3), logitDiff(1, 2))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
