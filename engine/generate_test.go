package engine

import (
	"reflect"
	"testing"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// Generate returns what Collect interventions and captured sites read in
// every pass, as pv's Generation.Data gives them.
func TestGenerateValuesMatchPV(t *testing.T) {
	m, gm := shipped(t)
	cfg := govene.Config{Representations: []govene.RepresentationConfig{
		{Layer: 2, Component: lm.BlockOutput, InterventionType: govene.Collect}}}
	x, err := m.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	iv, err := pv.New(gm, pv.Config(cfg))
	if err != nil {
		t.Fatal(err)
	}
	prompts := []govene.Prompt{gm.Encode("The Colosseum is in the city of"), gm.Encode("Paris is")}
	site := govene.Site{Layer: 1, Component: lm.MLPOutput}
	opts := govene.GenerateOptions{Sampling: govene.Sampling{MaxNewTokens: 3}}
	gen, err := x.Generate(prompts, opts, nil, govene.CaptureSites(site))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := iv.Generate(prompts, pv.GenerateOptionsFrom(opts), pv.CaptureSites(site))
	if err != nil {
		t.Fatal(err)
	}
	want := pg.Data()
	if !reflect.DeepEqual(gen, want) {
		t.Errorf("Generate = %+v, want %+v", gen, want)
	}
	collected, sites := gen.Collected[x.Keys()[0]], gen.Sites[site.String()]
	if len(collected) != 3 || len(sites) != 3 || !reflect.DeepEqual(gen.Lengths, []int{prompts[0].Len(), prompts[1].Len()}) {
		t.Fatalf("%d collected passes, %d site passes, lengths %v; want 3, 3 and the prompts' lengths", len(collected), len(sites), gen.Lengths)
	}
	if s := collected[1].Shape; !reflect.DeepEqual(s, []int{2, 1, gm.Dims().Hidden}) {
		t.Errorf("pass 1 has shape %v, want [2 1 %d]", s, gm.Dims().Hidden)
	}
}
