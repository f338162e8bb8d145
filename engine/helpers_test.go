package engine

import (
	"io"
	"sync"
	"testing"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
)

// testEngine is one engine for the package's tests: the shipped model is
// loaded once.
var testEngine = sync.OnceValues(func() (*Engine, error) {
	return New(Options{Backend: "go", Progress: io.Discard})
})

// shipped returns the test engine's shipped model and the models.Model
// behind it, for the direct calls the engine's results are compared with.
func shipped(t testing.TB) (*Model, models.Model) {
	t.Helper()
	e, err := testEngine()
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.model("shipped")
	if err != nil {
		t.Fatal(err)
	}
	return m, m.Model()
}

// patchConfig is a one-intervention patching config at the residual stream.
var patchConfig = govene.Config{Representations: []govene.RepresentationConfig{
	{Layer: 3, Component: lm.BlockOutput, InterventionType: govene.Vanilla}}}

// zeroConfig zeroes an MLP's output: an intervention without a source.
var zeroConfig = govene.Config{Representations: []govene.RepresentationConfig{
	{Layer: 1, Component: lm.MLPOutput, InterventionType: govene.Zero}}}

// dasConfig is a tiny trainable config.
var dasConfig = govene.Config{Representations: []govene.RepresentationConfig{
	{Layer: 2, Component: lm.BlockOutput, InterventionType: govene.LowRankRotatedSpace, LowRankDimension: 2}}}

// dasExamples swaps the subject of two prompts; the label is the source's
// city token.
func dasExamples(t testing.TB, m models.Model) []govene.Example {
	t.Helper()
	base := m.Encode("The Colosseum is in the city of")
	src := m.Encode("The Eiffel Tower is in the city of")
	paris, ok := m.TokenID(" Paris")
	if !ok {
		t.Fatal(`" Paris" is not one token`)
	}
	var out []govene.Example
	for range 4 {
		out = append(out, govene.Example{Base: base, Sources: []govene.Prompt{src}, Label: paris})
	}
	return out
}
