package plots

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/govene/govene"
)

// A causal trace renders from its data alone.
func TestTraceReportFromData(t *testing.T) {
	grid := govene.SweepResult{Rows: []string{"0", "1"}, Cols: []string{"a", "b", "c"}, Values: [][]float64{{0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}}}
	r := &govene.TraceResult{
		Config: govene.TraceConfig{Prompt: "a b c", Subject: "b", Target: " d", NoiseScale: 3},
		Tokens: []string{"a", " b", " c"}, SubjectFrom: 1, SubjectTo: 2, NoiseLevel: 0.3, Clean: 0.6, Corrupted: 0.1,
		Grids: []govene.TraceGrid{{Component: govene.BlockOutput, Window: 1, Result: grid},
			{Component: govene.MLPOutput, Window: 2, Result: grid}},
		CleanProbs: []float32{0.1, 0.2, 0.3, 0.4}, CorruptedProbs: []float32{0.4, 0.3, 0.2, 0.1},
	}
	hs := TraceHeatMaps(r)
	if len(hs) != 2 || hs[0].Title != "restoring block_output" || hs[1].Title != "restoring mlp_output (window of 2 layers)" {
		t.Fatalf("heat maps %+v", hs)
	}
	if got := strings.Join(hs[0].Cols, "|"); got != "a| b*| c" || !hs[0].Transpose || hs[0].Marks[1].Value != 0.6 {
		t.Errorf("columns %q, transpose %v, marks %+v", got, hs[0].Transpose, hs[0].Marks)
	}
	label := func(id int) string { return []string{"a", " b", " c", " d"}[id] }
	html, err := TraceReport(r, label).HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Causal trace", "restoring mlp_output", "clean 0.6000", "corrupted"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if TraceHeatMaps(nil) != nil || TraceReport(nil, nil) == nil {
		t.Error("a nil trace should give no heat maps and an empty report")
	}
}

// plots builds without GoMLX, so a session's client renders results
// without linking it.
func TestNoGoMLXDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/govene/govene/plots").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, d := range strings.Fields(string(out)) {
		if strings.Contains(d, "gomlx") {
			t.Errorf("plots depends on %s; it must stay free of GoMLX", d)
		}
	}
}
