package sae

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/train"
)

// stepFixture is one case of sae/testdata/train_step.json
// (oracle/make_sae_train_fixtures.py): one SAELens training step.
type stepFixture struct {
	Name        string               `json:"name"`
	DIn         int                  `json:"d_in"`
	DSAE        int                  `json:"d_sae"`
	LR          float64              `json:"lr"`
	X           []float32            `json:"x"`
	Coefficient float64              `json:"coefficient"`
	Dead        []float32            `json:"dead"`
	RawBefore   map[string][]float32 `json:"before"`
	RawGrads    map[string][]float32 `json:"grads"`
	RawAfter    map[string][]float32 `json:"after"`
	Loss        float64              `json:"loss"`
	MSELoss     float64              `json:"mse_loss"`
	L0          float64              `json:"l0"`
}

// TestTrainStepParity checks one training step against SAELens 6.54.12
// (StandardTrainingSAE, TopKTrainingSAE with the aux-k loss on six dead
// features, JumpReLUTrainingSAE): the losses, L0, every gradient and the
// weights after clipping and Adam.
func TestTrainStepParity(t *testing.T) {
	data, err := os.ReadFile("testdata/train_step.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Cases []stepFixture `json:"cases"`
	}
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) != 3 {
		t.Fatalf("%d cases; want 3", len(fx.Cases))
	}
	b, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"W_enc", "b_enc", "W_dec", "b_dec", "threshold"}
	for _, c := range fx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			dims := map[string][]int{"W_enc": {c.DIn, c.DSAE}, "b_enc": {c.DSAE}, "W_dec": {c.DSAE, c.DIn}, "b_dec": {c.DIn}, "threshold": {c.DSAE}}
			var params []*tensors.Tensor
			var used []string
			for _, n := range names {
				if v, ok := c.RawBefore[n]; ok {
					params = append(params, tensors.FromFlatDataAndDimensions(v, dims[n]...))
					used = append(used, n)
				}
			}
			lg := lossGraph{arch: c.Name, k: 3, bandwidth: 0.5, auxLoss: c.Name == ArchTopK}
			nDead := 0
			for _, d := range c.Dead {
				nDead += int(d)
			}
			kAux := c.DIn / 2
			inputs := []any{tensors.FromFlatDataAndDimensions(c.X, len(c.X)/c.DIn, c.DIn), tensors.FromScalar(float32(c.Coefficient)),
				tensors.FromFlatDataAndDimensions(c.Dead, c.DSAE), tensors.FromScalar(float32(min(float64(nDead)/float64(kAux), 1))),
				tensors.FromScalar(float32(min(kAux, nDead)))}

			// Gradients of the loss.
			n := len(params)
			e, err := graph.NewExec(b, func(in []*graph.Node) []*graph.Node {
				loss, extra := lg.loss(in[:n], in[n:])
				return append([]*graph.Node{loss, extra[outMSE], extra[outL0]}, graph.Gradient(loss, in[:n]...)...)
			})
			if err != nil {
				t.Fatal(err)
			}
			outs, err := e.Call(append(append([]any{}, toAny(params)...), inputs...)...)
			if err != nil {
				t.Fatal(err)
			}
			scalar := func(i int) float64 { return float64(tensors.MustCopyFlatData[float32](outs[i])[0]) }
			for _, v := range []struct {
				what      string
				got, want float64
			}{{"loss", scalar(0), c.Loss}, {"mse_loss", scalar(1), c.MSELoss}, {"l0", scalar(2), c.L0}} {
				if math.Abs(v.got-v.want) > 1e-5*max(1, math.Abs(v.want)) {
					t.Errorf("%s %.7g; SAELens %.7g", v.what, v.got, v.want)
				}
			}
			for i, name := range used {
				closeTo(t, "gradient of "+name, tensors.MustCopyFlatData[float32](outs[3+i]), c.RawGrads[name], 1e-4)
			}

			// One step: clipping at norm 1 and Adam.
			tr, err := train.New(b, params, lg.loss, train.Adam{LR: c.LR, ClipNorm: 1}, lg.post)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := tr.Step(inputs...); err != nil {
				t.Fatal(err)
			}
			for i, name := range used {
				closeTo(t, name+" after the step", tensors.MustCopyFlatData[float32](tr.Params()[i]), c.RawAfter[name], 1e-5)
			}
		})
	}
}

// toAny turns tensors into call arguments.
func toAny(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// closeTo reports the first value of got more than tol (relative above 1)
// from want.
func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values; SAELens has %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*max(1, math.Abs(float64(want[i]))) {
			t.Errorf("%s[%d] = %.7g; SAELens %.7g", what, i, got[i], want[i])
			return
		}
	}
}
