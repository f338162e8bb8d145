package sweep

import (
	"testing"

	"github.com/govene/govene/lm"
)

// noResidMid is a model whose Dims say it has no resid_mid site (as
// GPT-NeoX with a parallel residual).
type noResidMid struct{ lm.Model }

func (m noResidMid) Dims() lm.Dims {
	d := m.Model.Dims()
	d.Absent = []lm.Component{lm.ResidMid}
	return d
}

func TestSweepRefusesAbsentComponent(t *testing.T) {
	sw := New(noResidMid{tiny(t)})
	_, err := sw.Patch(prompt(1, 2, 3), prompt(4, 5, 6), Config{Component: lm.ResidMid, Metric: TokenProb(7)})
	wantErr(t, err, "component", "this model has no resid_mid site")
}
