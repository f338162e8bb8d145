package mlp_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/mlp"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/train"
)

// equalityConfig is the MLP of pyvene's DAS introduction: four 4-d entities
// in, three ReLU layers of 16, two classes. Entities 0..19999 train, the
// 100 after them test (pyvene draws fresh random vectors for both).
var equalityConfig = mlp.Config{Vocab: 20100, Embed: 4, Inputs: 4, Hidden: 16, Layers: 3, Classes: 2}

// equalityDAS is pyvene's alignment: a full RotatedSpace on the first
// layer, two interventions linked to one rotation, dims 0-7 for WX and
// 8-15 for YZ.
func equalityDAS(t *testing.T, m *mlp.Model) *pv.Model {
	t.Helper()
	link := 0
	rep := pv.RepresentationConfig{Layer: 0, Component: lm.BlockOutput, InterventionType: pv.RotatedSpace,
		InterventionLinkKey: &link, SubspacePartition: [][]int{{0, 8}, {8, 16}}}
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{rep, rep}})
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

// counterfactuals draws n interchange examples over entities [lo, hi):
// example i interchanges WX (i%3 == 0, from source 1), YZ (1, from source
// 2) or both (2), as pyvene's tutorial mixes them; its label is what the
// high-level algorithm outputs under that interchange.
func counterfactuals(n int, seed uint64, lo, hi int) []pv.Example {
	cq := mlp.NewEquality(lo, hi, seed)
	var out []pv.Example
	for i := range n {
		which := i % 3
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

// trainEqualityDAS trains the alignment (2000 Adam steps of 256) and
// returns the test IIA overall and per interchange type (WX, YZ, both).
func trainEqualityDAS(t *testing.T, iv *pv.Model) (float64, [3]float64) {
	t.Helper()
	data, test := counterfactuals(64000, 3, 0, 20000), counterfactuals(3000, 4, 20000, 20100)
	rep, err := iv.Train(data, nil, pv.TrainConfig{Epochs: 8, BatchSize: 256, Adam: train.Adam{LR: 2e-3}, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	var per [3]float64
	for which := range per {
		var sub []pv.Example
		for i, e := range test {
			if i%3 == which {
				sub = append(sub, e)
			}
		}
		if per[which], err = iv.IIA(sub, 256); err != nil {
			t.Fatal(err)
		}
	}
	iia, err := iv.IIA(test, 256)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DAS: %d steps in %s, loss %.3f -> %.3f; test IIA %.3f (WX %.3f, YZ %.3f, both %.3f)",
		rep.Steps, rep.Duration.Round(1e8), rep.Losses[0], rep.Losses[len(rep.Losses)-1], iia, per[0], per[1], per[2])
	return iia, per
}

// TestHierarchicalEqualityDAS reproduces pyvene's DAS_Main_Introduction
// end to end on the pure-Go backend: govene trains the MLP to about 0.99
// task accuracy, then a RotatedSpace DAS alignment of WX and YZ on its
// first layer, and the test IIA must reach 0.95 (pyvene reports 0.97).
//
// How high DAS gets depends on the trained MLP: the two 8-d halves only
// align when the first layer keeps WX and YZ in separate units. With the
// tutorial's recipe (no weight decay) pyvene 0.1.8 itself reaches test
// IIA 0.889 and 0.588 on CPU for seeds 42 and 1 (oracle/
// make_equality_fixtures.py), and govene 0.82-0.90 over seeds 1-4. Weight
// decay 1.0 and 8000 steps give a first layer that aligns: govene's IIA
// 0.996, 0.998, 0.996 for MLP seeds 2-4 (seed 1: task accuracy 0.976,
// IIA 0.94; more in the DAS issue's notes). This test uses seed 2.
func TestHierarchicalEqualityDAS(t *testing.T) {
	b, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mlp.New(equalityConfig, b, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mlp.TrainTask(m, mlp.NewEquality(0, 20000, 2), 8000, 1024, train.Adam{LR: 1e-3, WeightDecay: 1, TotalSteps: 8000}); err != nil {
		t.Fatal(err)
	}
	acc, err := mlp.Accuracy(m, mlp.NewEquality(20000, 20100, 5), 4000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("task accuracy on unseen entities %.3f", acc)
	if acc < 0.98 {
		t.Fatalf("task accuracy %.3f, want about 0.99 (pyvene: 0.996)", acc)
	}
	iv := equalityDAS(t, m)
	iia, per := trainEqualityDAS(t, iv)
	if iia < 0.95 {
		t.Errorf("test IIA %.3f, want at least 0.95 (pyvene: 0.97)", iia)
	}
	for which, a := range per {
		if a < 0.9 {
			t.Errorf("IIA of interchange %s %.3f, want at least 0.9", []string{"WX", "YZ", "both"}[which], a)
		}
	}
	// The alignment is a rotation, within the tolerance the issue asks.
	if dev := orthonormalityError(t, iv); dev > 1e-4 {
		t.Errorf("max |WᵀW - I| = %g after training, want < 1e-4", dev)
	}
}

// orthonormalityError returns max |WᵀW - I| of the first intervention's
// rotation.
func orthonormalityError(t *testing.T, iv *pv.Model) float64 {
	t.Helper()
	v, shape, err := iv.Weight(iv.Keys()[0], "rotate_layer")
	if err != nil {
		t.Fatal(err)
	}
	w := make([][]float32, shape[0])
	for i := range w {
		w[i] = v[i*shape[1] : (i+1)*shape[1]]
	}
	worst := 0.0
	for i := range w[0] {
		for j := range w[0] {
			dot := 0.0
			for k := range w {
				dot += float64(w[k][i]) * float64(w[k][j])
			}
			if i == j {
				dot--
			}
			worst = math.Max(worst, math.Abs(dot))
		}
	}
	return worst
}

// equalityFixture is mlp/testdata/equality_pyvene.json, written by
// oracle/make_equality_fixtures.py.
type equalityFixture struct {
	Models []struct {
		Name          string                     `json:"name"`
		TaskAccuracy  float64                    `json:"task_accuracy"`
		PyveneIIA     []float64                  `json:"pyvene_iia"`
		PyveneTestIIA float64                    `json:"pyvene_test_iia"`
		Weights       map[string]json.RawMessage `json:"weights"`
	} `json:"models"`
}

// TestEqualityDASMatchesPyvene trains govene's DAS on the MLPs that
// pyvene's tutorial code trained (oracle/make_equality_fixtures.py: the
// tutorial's recipe, and the weight-decay recipe above) and checks that it
// reaches pyvene's test IIA on the same network: training outcome parity,
// within 0.03 (both sides sample their own data).
func TestEqualityDASMatchesPyvene(t *testing.T) {
	raw, err := os.ReadFile("testdata/equality_pyvene.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx equalityFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Models) == 0 {
		t.Fatal("no models in testdata/equality_pyvene.json")
	}
	b, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, fm := range fx.Models {
		t.Run(fm.Name, func(t *testing.T) {
			m, err := mlp.New(equalityConfig, b, 7)
			if err != nil {
				t.Fatal(err)
			}
			params := []*tensors.Tensor{m.Params()[0]}
			for _, layer := range []string{"mlp.h.0.ff1", "mlp.h.1.ff1", "mlp.h.2.ff1", "score"} {
				w, err := matrix(fm.Weights[layer+".weight"])
				if err != nil {
					t.Fatalf("%s.weight: %v", layer, err)
				}
				var bias []float32
				if err := json.Unmarshal(fm.Weights[layer+".bias"], &bias); err != nil {
					t.Fatalf("%s.bias: %v", layer, err)
				}
				params = append(params, w, tensors.FromFlatDataAndDimensions(bias, len(bias)))
			}
			if err := m.SetParams(params); err != nil {
				t.Fatal(err)
			}
			acc, err := mlp.Accuracy(m, mlp.NewEquality(20000, 20100, 5), 4000)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("pyvene's MLP: task accuracy %.3f here, %.3f in pyvene", acc, fm.TaskAccuracy)
			if math.Abs(acc-fm.TaskAccuracy) > 0.02 {
				t.Errorf("task accuracy %.3f, pyvene measured %.3f on the same weights", acc, fm.TaskAccuracy)
			}
			iia, _ := trainEqualityDAS(t, equalityDAS(t, m))
			t.Logf("pyvene on the same MLP: test IIA %.3f (WX %.3f, YZ %.3f, both %.3f)", fm.PyveneTestIIA, fm.PyveneIIA[0], fm.PyveneIIA[1], fm.PyveneIIA[2])
			if math.Abs(iia-fm.PyveneTestIIA) > 0.03 {
				t.Errorf("test IIA %.3f, pyvene %.3f on the same MLP: want within 0.03", iia, fm.PyveneTestIIA)
			}
		})
	}
}

// matrix decodes a JSON [in][out] array into an [in, out] tensor.
func matrix(raw json.RawMessage) (*tensors.Tensor, error) {
	var rows [][]float32
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("empty matrix")
	}
	flat := make([]float32, 0, len(rows)*len(rows[0]))
	for i, r := range rows {
		if len(r) != len(rows[0]) {
			return nil, fmt.Errorf("row %d has %d values, want %d", i, len(r), len(rows[0]))
		}
		flat = append(flat, r...)
	}
	return tensors.FromFlatDataAndDimensions(flat, len(rows), len(rows[0])), nil
}
