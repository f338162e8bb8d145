package pv

import (
	"testing"

	"github.com/govene/govene/lm"
)

// TestValidateAbsentComponent checks that a config naming a component the
// model lacks (Dims.Absent) is refused, naming it, while mlp_post, which
// every model has, is accepted with the MLP's width.
func TestValidateAbsentComponent(t *testing.T) {
	d := lm.Dims{Layers: 2, Heads: 2, Hidden: 8, HeadDim: 4, Inner: 32, Vocab: 10, Positions: 16,
		Absent: []lm.Component{lm.PosEmbed, lm.ResidMid}}
	err := Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.ResidMid}}}.Validate(d)
	wantErr(t, err, "representations[0].component", "this model has no resid_mid site")
	post := Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.MLPPost, InterventionType: Addition,
		SourceRepresentation: make([]float32, 32)}}}
	if err := post.Validate(d); err != nil {
		t.Errorf("mlp_post with a steering vector of the MLP's width 32: %v", err)
	}
	post.Representations[0].SourceRepresentation = make([]float32, 8)
	if err := post.Validate(d); err == nil {
		t.Error("mlp_post with a steering vector of the hidden width 8: no error; want a width error")
	}
}
