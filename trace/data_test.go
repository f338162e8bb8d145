package trace

import (
	"reflect"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/sweep"
)

// Data holds the result's values, copied, and the report renders from it.
func TestDataAndProgress(t *testing.T) {
	c := gpt2.DefaultConfig()
	c.NLayer, c.NHead, c.NEmbd = 2, 2, 16
	m, err := gpt2.Random(c, 1, gpt2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	finished := map[lm.Component]int{}
	r, err := Run(m, sweep.New(m), Config{Prompt: "The Space Needle is in downtown", Subject: "Space Needle", Target: " Seattle", Seed: 1},
		OnProgress(func(c lm.Component, done, total int) {
			if done == total {
				finished[c]++
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[lm.Component]int{lm.BlockOutput: 1, lm.MLPOutput: 1, lm.AttentionOutput: 1}
	if !reflect.DeepEqual(finished, want) {
		t.Errorf("grids finished %v, want %v", finished, want)
	}
	d := r.Data()
	if d.Config != r.Config || !reflect.DeepEqual(d.Tokens, r.Tokens) || d.Clean != r.Clean || d.Corrupted != r.Corrupted ||
		d.SubjectFrom != r.SubjectFrom || d.SubjectTo != r.SubjectTo || d.NoiseLevel != r.NoiseLevel ||
		!reflect.DeepEqual(d.CleanProbs, r.CleanProbs) || !reflect.DeepEqual(d.CorruptedProbs, r.CorruptedProbs) {
		t.Errorf("Data %+v does not hold the result's values", d)
	}
	if len(d.Grids) != len(r.Grids) {
		t.Fatalf("%d grids, want %d", len(d.Grids), len(r.Grids))
	}
	for i, g := range d.Grids {
		if g.Component != r.Grids[i].Component || g.Window != r.Grids[i].Window || !reflect.DeepEqual(g.Result, *r.Grids[i].Result) {
			t.Errorf("grid %d differs", i)
		}
	}
	d.Grids[0].Result.Values[0][0] = 42
	if r.Grids[0].Result.Values[0][0] == 42 {
		t.Error("Data shares the grids' values with the result")
	}
	if !reflect.DeepEqual(r.HeatMaps(), plots.TraceHeatMaps(r.Data())) {
		t.Error("HeatMaps is not plots.TraceHeatMaps of Data")
	}
	if (*Result)(nil).Data() != nil {
		t.Error("a nil result's Data is not nil")
	}
}
