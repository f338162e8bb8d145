package mlp_test

import (
	"io"
	"testing"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/mlp"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/train"
)

// TestHierarchicalEqualityDAS reproduces pyvene's DAS_Main_Introduction:
// a 3-layer MLP trained on hierarchical equality, then a full RotatedSpace
// DAS alignment on its first hidden layer with two linked interventions on
// the two halves (one per equality variable), trained on interchanges of
// WX, YZ or both. pyvene reports task accuracy 0.996 and test IIA 0.97.
func TestHierarchicalEqualityDAS(t *testing.T) {
	b, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mlp.Config{Vocab: 20100, Embed: 4, Inputs: 4, Hidden: 16, Layers: 3, Classes: 2}
	m, err := mlp.New(cfg, b, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Training entities 0..19999 stand in for pyvene's fresh random vectors;
	// the test uses 100 unseen ones, as pyvene's tutorial does.
	acc, err := mlp.TrainTask(m, mlp.NewEquality(0, 20000, 2), 4000, 1024, train.Adam{LR: 1e-3, TotalSteps: 4000})
	if err != nil {
		t.Fatal(err)
	}
	acc, err = mlp.Accuracy(m, mlp.NewEquality(20000, 20100, 5), 2000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("task accuracy %.3f", acc)
	if acc < 0.98 {
		t.Fatalf("task accuracy %.3f, want about 0.99", acc)
	}
	link := 0
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: 0, Component: lm.BlockOutput, InterventionType: pv.RotatedSpace, InterventionLinkKey: &link, SubspacePartition: [][]int{{0, 8}, {8, 16}}},
		{Layer: 0, Component: lm.BlockOutput, InterventionType: pv.RotatedSpace, InterventionLinkKey: &link, SubspacePartition: [][]int{{0, 8}, {8, 16}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	examples := func(n int, seed uint64, lo, hi int) []pv.Example {
		cq := mlp.NewEquality(lo, hi, seed)
		var out []pv.Example
		for i := range n {
			which := i % 3 // WX, YZ or both, as pyvene's tutorial mixes them
			base, s1, s2, label := cq.Counterfactual(which)
			subs := [][]int{{0}, {1}}
			switch which {
			case 0:
				subs[1] = []int{}
			case 1:
				subs[0] = []int{}
			}
			out = append(out, pv.Example{
				Base: lm.Prompt{IDs: base}, Sources: []lm.Prompt{{IDs: s1}, {IDs: s2}},
				SourceUnits: [][]int{{0}, {0}}, BaseUnits: [][]int{{0}, {0}},
				Subspaces: subs, Label: label,
			})
		}
		return out
	}
	data, test := examples(64000, 3, 0, 20000), examples(1500, 4, 20000, 20100)
	rep, err := iv.Train(data, nil, pv.TrainConfig{Epochs: 8, BatchSize: 256, Adam: train.Adam{LR: 2e-3}, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	trainIIA, _ := iv.IIA(data[:1000], 256)
	t.Logf("train IIA %.3f", trainIIA)
	for which := range 3 {
		var sub []pv.Example
		for i, e := range test {
			if i%3 == which {
				sub = append(sub, e)
			}
		}
		a, _ := iv.IIA(sub, 256)
		t.Logf("IIA for intervention %d: %.3f", which, a)
	}
	iia, err := iv.IIA(test, 256)
	if err != nil {
		t.Fatal(err)
	}
	tail := rep.Losses[len(rep.Losses)-100:]
	mean := 0.0
	for _, l := range tail {
		mean += l / float64(len(tail))
	}
	t.Logf("mean loss of the last 100 steps %.3f", mean)
	t.Logf("DAS: %d steps in %s, loss %.3f -> %.3f, test IIA %.3f", rep.Steps, rep.Duration, rep.Losses[0], rep.Losses[len(rep.Losses)-1], iia)
	// pyvene's tutorial reaches 0.97 with batches of 6400 on a GPU; this
	// run (2000 steps of 256 on the CPU) reaches about 0.82. The gap is
	// recorded on the DAS issue; the threshold guards what is reached.
	if iia < 0.78 {
		t.Errorf("test IIA %.3f, want at least 0.78 (pyvene: 0.97)", iia)
	}
}
