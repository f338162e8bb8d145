package main

import (
	"maps"
	"slices"
	"testing"

	"github.com/govene/govene/analysis"
	"github.com/govene/govene/lm"
)

// TestAttribPair checks the attribution workloads' ids against
// bench/tl_attrib_bench.py's: clean 100+37*i, corrupted with position 3 set
// to 7.
func TestAttribPair(t *testing.T) {
	clean, corrupt := attribPair()
	want := []int{100, 137, 174, 211, 248, 285, 322, 359, 396, 433, 470, 507}
	if !slices.Equal(clean.IDs, want) {
		t.Errorf("clean = %v, want %v", clean.IDs, want)
	}
	want[3] = 7
	if !slices.Equal(corrupt.IDs, want) {
		t.Errorf("corrupt = %v, want %v", corrupt.IDs, want)
	}
}

// TestAttribCheck checks the cells' keys, which bench/report.py matches
// with TransformerLens' ("component:row:position"), and that exact picks
// the Exact grids.
func TestAttribCheck(t *testing.T) {
	r := &analysis.AttribResult{Clean: 2, Corrupt: 1, Sites: []analysis.SiteAttribution{
		{Component: lm.BlockInput, Rows: []string{"0"}, Attribution: [][]float64{{1, 2}}, Exact: [][]float64{{3, 4}}},
		{Component: lm.HeadResult, Rows: []string{"L0H0", "L0H1"}, Attribution: [][]float64{{5, 6}, {7, 8}},
			Exact: [][]float64{{9, 10}, {11, 12}}},
	}}
	for _, tc := range []struct {
		name  string
		exact bool
		want  map[string]float64
	}{
		{"attribution", false, map[string]float64{"block_input:0:0": 1, "block_input:0:1": 2,
			"head_result:L0H0:0": 5, "head_result:L0H0:1": 6, "head_result:L0H1:0": 7, "head_result:L0H1:1": 8}},
		{"exact", true, map[string]float64{"block_input:0:0": 3, "block_input:0:1": 4,
			"head_result:L0H0:0": 9, "head_result:L0H0:1": 10, "head_result:L0H1:0": 11, "head_result:L0H1:1": 12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := attribCheck(r, tc.exact)
			if cells := got["cells"].(map[string]float64); !maps.Equal(cells, tc.want) {
				t.Errorf("cells = %v, want %v", cells, tc.want)
			}
			if got["clean"] != 2.0 || got["corrupt"] != 1.0 {
				t.Errorf("clean, corrupt = %v, %v, want 2, 1", got["clean"], got["corrupt"])
			}
		})
	}
	if n := attribCells(r); n != 6 {
		t.Errorf("attribCells = %d, want 6", n)
	}
}
