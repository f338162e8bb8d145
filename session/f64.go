package session

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/govene/govene"
)

// F64 is a float64 that travels exactly, NaN and infinities included
// (which JSON numbers cannot hold): a JSON number, or the string "NaN",
// "+Inf" or "-Inf".
type F64 float64

// MarshalJSON writes f as a number, or as a string for NaN and infinities.
func (f F64) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number or "NaN", "+Inf", "Inf", "-Inf"; anything
// else is an error naming it.
func (f *F64) UnmarshalJSON(data []byte) error {
	var s string
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*f = F64(math.NaN())
		case "+Inf", "Inf":
			*f = F64(math.Inf(1))
		case "-Inf":
			*f = F64(math.Inf(-1))
		default:
			return fmt.Errorf("float: %q is not a number, \"NaN\", \"+Inf\" or \"-Inf\"", s)
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("float: %v", err)
	}
	*f = F64(v)
	return nil
}

// toF64 and fromF64 convert slices.
func toF64(x []float64) []F64 {
	if x == nil {
		return nil
	}
	out := make([]F64, len(x))
	for i, v := range x {
		out[i] = F64(v)
	}
	return out
}

func fromF64(x []F64) []float64 {
	if x == nil {
		return nil
	}
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// SweepData is a govene.SweepResult as it travels (NaN values included).
type SweepData struct {
	Rows   []string `json:"rows"`
	Cols   []string `json:"cols"`
	Values [][]F64  `json:"values"`
	Base   F64      `json:"base"`
	Source F64      `json:"source"`
}

// SweepDataOf returns r's SweepData (the zero value for nil).
func SweepDataOf(r *govene.SweepResult) SweepData {
	if r == nil {
		return SweepData{}
	}
	d := SweepData{Rows: r.Rows, Cols: r.Cols, Base: F64(r.Base), Source: F64(r.Source)}
	if r.Values != nil {
		d.Values = make([][]F64, len(r.Values))
		for i, v := range r.Values {
			d.Values[i] = toF64(v)
		}
	}
	return d
}

// Result returns d as a govene.SweepResult.
func (d SweepData) Result() *govene.SweepResult {
	r := &govene.SweepResult{Rows: d.Rows, Cols: d.Cols, Base: float64(d.Base), Source: float64(d.Source)}
	if d.Values != nil {
		r.Values = make([][]float64, len(d.Values))
		for i, v := range d.Values {
			r.Values[i] = fromF64(v)
		}
	}
	return r
}

// TraceGridData is a govene.TraceGrid as it travels.
type TraceGridData struct {
	Component govene.Component `json:"component"`
	Window    int              `json:"window"`
	Result    SweepData        `json:"result"`
}

// TraceData is a govene.TraceResult as it travels.
type TraceData struct {
	Config         govene.TraceConfig `json:"config"`
	Tokens         []string           `json:"tokens"`
	SubjectFrom    int                `json:"subject_from"`
	SubjectTo      int                `json:"subject_to"`
	NoiseLevel     F64                `json:"noise_level"`
	Clean          F64                `json:"clean"`
	Corrupted      F64                `json:"corrupted"`
	Grids          []TraceGridData    `json:"grids"`
	CleanProbs     Float32s           `json:"clean_probs"`
	CorruptedProbs Float32s           `json:"corrupted_probs"`
}

// TraceDataOf returns r's TraceData (the zero value for nil).
func TraceDataOf(r *govene.TraceResult) TraceData {
	if r == nil {
		return TraceData{}
	}
	d := TraceData{Config: r.Config, Tokens: r.Tokens, SubjectFrom: r.SubjectFrom, SubjectTo: r.SubjectTo,
		NoiseLevel: F64(r.NoiseLevel), Clean: F64(r.Clean), Corrupted: F64(r.Corrupted),
		CleanProbs: r.CleanProbs, CorruptedProbs: r.CorruptedProbs}
	for _, g := range r.Grids {
		d.Grids = append(d.Grids, TraceGridData{Component: g.Component, Window: g.Window, Result: SweepDataOf(&g.Result)})
	}
	return d
}

// Result returns d as a govene.TraceResult.
func (d TraceData) Result() *govene.TraceResult {
	r := &govene.TraceResult{Config: d.Config, Tokens: d.Tokens, SubjectFrom: d.SubjectFrom, SubjectTo: d.SubjectTo,
		NoiseLevel: float64(d.NoiseLevel), Clean: float64(d.Clean), Corrupted: float64(d.Corrupted),
		CleanProbs: d.CleanProbs, CorruptedProbs: d.CorruptedProbs}
	for _, g := range d.Grids {
		r.Grids = append(r.Grids, govene.TraceGrid{Component: g.Component, Window: g.Window, Result: *g.Result.Result()})
	}
	return r
}

// TrainReportData is a govene.TrainReport as it travels (NaN losses
// included).
type TrainReportData struct {
	Steps     int           `json:"steps"`
	Losses    []F64         `json:"losses"`
	EvalSteps []int         `json:"eval_steps"`
	EvalIIA   []F64         `json:"eval_iia"`
	BestIIA   F64           `json:"best_iia"`
	Stopped   string        `json:"stopped"`
	Duration  time.Duration `json:"duration"`
}

// TrainReportDataOf returns r's TrainReportData (the zero value for nil).
func TrainReportDataOf(r *govene.TrainReport) TrainReportData {
	if r == nil {
		return TrainReportData{}
	}
	return TrainReportData{Steps: r.Steps, Losses: toF64(r.Losses), EvalSteps: r.EvalSteps,
		EvalIIA: toF64(r.EvalIIA), BestIIA: F64(r.BestIIA), Stopped: r.Stopped, Duration: r.Duration}
}

// Report returns d as a govene.TrainReport.
func (d TrainReportData) Report() *govene.TrainReport {
	return &govene.TrainReport{Steps: d.Steps, Losses: fromF64(d.Losses), EvalSteps: d.EvalSteps,
		EvalIIA: fromF64(d.EvalIIA), BestIIA: float64(d.BestIIA), Stopped: d.Stopped, Duration: d.Duration}
}
