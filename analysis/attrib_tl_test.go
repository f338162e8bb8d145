package analysis

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/safetensors"
)

// attribTLCase is the part of a case of analysis/testdata/<ckpt>/tl_cases.json
// (oracle/make_analysis_fixtures.py, TransformerLens 4.3.0) that
// attribution patching needs.
type attribTLCase struct {
	Name      string  `json:"name"`
	Batch     int     `json:"batch"`
	Clean     [][]int `json:"clean"`
	Corrupted [][]int `json:"corrupted"`
	Target    []int   `json:"target"`
	Other     []int   `json:"other"`
	Metric    struct {
		Clean     float64 `json:"clean"`
		Corrupted float64 `json:"corrupted"`
	} `json:"metric"`
	// Correlation is numpy's corrcoef of each attribution grid with its
	// exact patching grid.
	Correlation map[string]float64 `json:"attrib_vs_patch_correlation"`
}

// attribTLGrids maps TransformerLens' grid names to govene's components:
// its head grid is at hook_z (head_attention_value_output); a head's
// result is a linear function of its z at each position, so attributing
// or patching either gives the same values, and both are checked.
var attribTLGrids = []struct {
	grid string
	c    lm.Component
}{
	{"resid_pre", lm.BlockInput},
	{"attn_out", lm.AttentionOutput},
	{"mlp_out", lm.MLPOutput},
	{"head_out", lm.HeadAttentionValueOutput},
	{"head_out", lm.HeadResult},
}

// TestAttributionMatchesTransformerLens compares attribution and exact
// patching with TransformerLens' on the fixtures' cases, within 1e-4 of
// each grid's largest magnitude. TransformerLens' metric is the batch mean
// of each example's logit difference, so a batch of two is the mean of
// two single-pair calls.
func TestAttributionMatchesTransformerLens(t *testing.T) {
	for _, ck := range []struct {
		name  string
		model func(testing.TB) models.Model
	}{{"gpt2-odd", oddModel}, {"llama", llamaModel}} {
		t.Run(ck.name, func(t *testing.T) {
			dir := filepath.Join("testdata", ck.name)
			raw, err := os.ReadFile(filepath.Join(dir, "tl_cases.json"))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Cases []attribTLCase `json:"cases"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			ref, err := safetensors.Open(filepath.Join(dir, "tl_reference.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			m := ck.model(t)
			a := NewAttributor(m)
			comps := make([]lm.Component, len(attribTLGrids))
			for i, g := range attribTLGrids {
				comps[i] = g.c
			}
			if len(doc.Cases) == 0 {
				t.Fatal("no cases")
			}
			for _, tc := range doc.Cases {
				t.Run(tc.Name, func(t *testing.T) {
					// Per component, the mean over the batch's examples.
					attrib := make([][]float64, len(comps))
					exact := make([][]float64, len(comps))
					var clean, corrupt float64
					n := float64(tc.Batch)
					for i := range tc.Batch {
						res, err := a.Patch(ids(tc.Clean[i]...), ids(tc.Corrupted[i]...), AttribConfig{
							Metric: logitDiff(tc.Target[i], tc.Other[i]), Components: comps, Exact: true})
						if err != nil {
							t.Fatal(err)
						}
						clean += res.Clean / n
						corrupt += res.Corrupt / n
						for j, s := range res.Sites {
							attrib[j] = addMean(attrib[j], s.Attribution, n)
							exact[j] = addMean(exact[j], s.Exact, n)
						}
					}
					for _, v := range []struct {
						what      string
						got, want float64
					}{{"clean metric", clean, tc.Metric.Clean}, {"corrupted metric", corrupt, tc.Metric.Corrupted}} {
						if math.Abs(v.got-v.want) > 1e-4*math.Max(1, math.Abs(v.want)) {
							t.Errorf("%s %g, TransformerLens %g", v.what, v.got, v.want)
						}
					}
					for j, g := range attribTLGrids {
						wantA, _, err := ref.Float32(tc.Name + "/attrib/" + g.grid)
						if err != nil {
							t.Fatal(err)
						}
						wantP, _, err := ref.Float32(tc.Name + "/patch/" + g.grid)
						if err != nil {
							t.Fatal(err)
						}
						// TransformerLens' patch grids are the patched metric;
						// ours are the change from the corrupted run.
						for k := range wantP {
							wantP[k] -= float32(tc.Metric.Corrupted)
						}
						compareRel(t, string(g.c)+" attribution", attrib[j], wantA, 1e-4)
						compareRel(t, string(g.c)+" exact patching", exact[j], wantP, 1e-4)
						if got, want := Pearson(attrib[j], exact[j]), tc.Correlation[g.grid]; !(math.Abs(got-want) < 1e-4) {
							t.Errorf("%s: correlation %g, TransformerLens' grids %g", g.c, got, want)
						}
					}
				})
			}
		})
	}
}

// addMean adds grid/n, flattened row by row, to acc (nil: zeros).
func addMean(acc []float64, grid [][]float64, n float64) []float64 {
	i := 0
	for _, row := range grid {
		for _, v := range row {
			if i == len(acc) {
				acc = append(acc, 0)
			}
			acc[i] += v / n
			i++
		}
	}
	return acc
}

// compareRel fails when got and want differ in length or anywhere by more
// than tol times want's largest magnitude.
func compareRel(t *testing.T, what string, got []float64, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, TransformerLens %d", what, len(got), len(want))
		return
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	worst, at := 0.0, 0
	for i := range got {
		if d := math.Abs(got[i] - float64(want[i])); d > worst {
			worst, at = d, i
		}
	}
	if worst > tol*scale {
		t.Errorf("%s: differs by %g (relative %g) at %d: %g vs TransformerLens %g", what, worst, worst/scale, at, got[at], want[at])
	}
}
