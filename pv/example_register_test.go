package pv_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/shipped"
	"github.com/govene/govene/shipped/facts"
	"github.com/govene/govene/train"
)

// gate is an intervention of one's own: a learned per-dimension gate that
// takes each dimension of the source in proportion sigmoid(g) ∈ (0, 1).
type gate struct{}

// Info names the type ("gate" in configs and saved files) and marks it
// trainable; it reads the source run at its own site (the default).
func (gate) Info() pv.Info { return pv.Info{Type: "gate", Trainable: true} }

// Weights: one trainable logit per dimension, starting at 0 (a half gate).
func (gate) Weights(_ pv.RepresentationConfig, width int) []pv.Weight {
	return []pv.Weight{{Name: "g", Shape: []int{width}, Trainable: true, Init: pv.InitConstant(0)}}
}

// SubspaceWidth: subspaces select the unit's own dimensions.
func (gate) SubspaceWidth(_ pv.RepresentationConfig, width int) int { return width }

// Check: no field of the config constrains a gate beyond the generic checks.
func (gate) Check(pv.RepresentationConfig, int) error { return nil }

// Apply: the base with each selected dimension moved sigmoid(g) of the way
// to the source.
func (gate) Apply(a pv.Args) *graph.Node {
	g := graph.ExpandLeftToRank(graph.Sigmoid(a.Weights[0]), a.Mask.Rank())
	return pv.Interchange(a.Base, a.Source, graph.Mul(a.Mask, g))
}

func init() {
	// Register once per process, before configs name the type.
	if err := pv.Register(gate{}); err != nil {
		panic(err)
	}
}

// A user-defined trainable intervention: registered, trained with DAS on
// the shipped model, saved and loaded back.
func ExampleRegister() {
	m, err := shipped.Load(gpt2.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, registered := pv.Lookup("gate")
	fmt.Println("registered:", registered)
	fmt.Println("registering it again fails:", pv.Register(gate{}) != nil)

	// Which city: sources name a landmark of another city, and the label is
	// the source's city.
	pairs := [][2]facts.LandmarkFact{
		{facts.Landmarks[0], facts.Landmarks[2]}, {facts.Landmarks[2], facts.Landmarks[6]},
		{facts.Landmarks[6], facts.Landmarks[4]}, {facts.Landmarks[4], facts.Landmarks[0]},
	}
	var data []pv.Example
	for _, p := range pairs {
		label, _ := m.TokenID(" " + p[1].City)
		data = append(data, pv.Example{
			Base:    m.Encode(p[0].Name + " is in the city of"),
			Sources: []lm.Prompt{m.Encode(p[1].Name + " is in the city of")},
			Label:   label,
		})
	}
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{
		{Layer: 4, Component: lm.BlockOutput, InterventionType: "gate"},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	key := iv.Keys()[0]
	fmt.Println("trainable parameters:", iv.TrainableParameters())
	before, _, _ := iv.Weight(key, "g")
	rep, err := iv.Train(data, nil, pv.TrainConfig{Steps: 3, BatchSize: 4, Adam: train.Adam{LR: 0.1}, Progress: io.Discard})
	if err != nil {
		fmt.Println(err)
		return
	}
	trained, _, _ := iv.Weight(key, "g")
	fmt.Println("steps:", rep.Steps, "gate changed:", !slices.Equal(before, trained))

	dir, err := os.MkdirTemp("", "gate")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := iv.Save(filepath.Join(dir, "gate")); err != nil {
		fmt.Println(err)
		return
	}
	loaded, err := pv.Load(filepath.Join(dir, "gate"), m)
	if err != nil {
		fmt.Println(err)
		return
	}
	back, shape, _ := loaded.Weight(key, "g")
	fmt.Println("loaded", loaded.Config().Representations[0].InterventionType, shape, "equal to the trained gate:", slices.Equal(back, trained))
	// Output:
	// registered: true
	// registering it again fails: true
	// trainable parameters: 128
	// steps: 3 gate changed: true
	// loaded gate [128] equal to the trained gate: true
}
