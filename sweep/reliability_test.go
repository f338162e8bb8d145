package sweep

import (
	"math"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// Hostile sweep configs, prompts and corruptions must give an error that
// names the field and the bad value, never a panic, a hang or a silent
// wrong result. Each table row is one hostile case; want lists substrings
// the error must contain.

func TestReliabilitySweep(t *testing.T) {
	m := tiny(t)
	p := prompt(3, 14, 15, 92, 65)
	ok := Config{Metric: TokenProb(7)}
	with := func(f func(*Config)) Config { c := ok; f(&c); return c }
	tests := []struct {
		name    string
		base    lm.Prompt
		corrupt *Corruption // nil: Patch from p
		cfg     Config
		want    []string
	}{
		{"unknown component", p, nil, with(func(c *Config) { c.Component = "resid_post" }), []string{"component", `"resid_post" is not a per-layer component`}},
		{"global component", p, nil, with(func(c *Config) { c.Component = lm.Logits }), []string{"component", `"logits"`}},
		{"per-head component with unit pos", p, nil, with(func(c *Config) { c.Component = lm.HeadValueOutput }), []string{"component: head_value_output is per head"}},
		{"unit h on a per-position component", p, nil, with(func(c *Config) { c.Unit = pv.Head }), []string{`unit: "h" needs a per-head component`}},
		{"unit h.pos on attention weights", p, nil, with(func(c *Config) { c.Unit, c.Component = pv.HeadPos, lm.AttentionWeight }), []string{`unit: "h.pos" needs a per-head component with a fixed width`}},
		{"unknown unit", p, nil, with(func(c *Config) { c.Unit = "dims" }), []string{`unit: "dims" is not valid`}},
		{"no metric", p, nil, Config{}, []string{"metric: none given"}},
		{"TokenProb(-1)", p, nil, with(func(c *Config) { c.Metric = TokenProb(-1) }), []string{"TokenProb", "token id -1 out of range [0, 97)"}},
		{"TokenProb past the vocabulary", p, nil, with(func(c *Config) { c.Metric = TokenProb(97) }), []string{"token id 97 out of range [0, 97)"}},
		{"LogitDiff(-1, 0)", p, nil, with(func(c *Config) { c.Metric = LogitDiff(-1, 0) }), []string{"LogitDiff a", "token id -1"}},
		{"LogitDiff(0, 1000)", p, nil, with(func(c *Config) { c.Metric = LogitDiff(0, 1000) }), []string{"LogitDiff b", "token id 1000 out of range [0, 97)"}},
		{"metric that panics", p, nil, with(func(c *Config) { c.Metric = func(l []float32) float64 { return float64(l[len(l)+1]) } }), []string{"metric: panicked on logits of vocabulary size 97"}},
		{"negative window", p, nil, with(func(c *Config) { c.Window = -2 }), []string{"window: -2 must not be negative"}},
		{"negative chunk size", p, nil, with(func(c *Config) { c.ChunkSize = -1 }), []string{"chunk_size: -1 out of range [0, 4096]"}},
		{"huge chunk size", p, nil, with(func(c *Config) { c.ChunkSize = 1 << 40 }), []string{"chunk_size: 1099511627776 out of range [0, 4096]"}},
		{"negative max bytes", p, nil, with(func(c *Config) { c.MaxBytes = -5 }), []string{"max_bytes: -5 must not be negative"}},
		{"empty layers", p, nil, with(func(c *Config) { c.Layers = []int{} }), []string{"layers: empty list"}},
		{"layer out of range", p, nil, with(func(c *Config) { c.Layers = []int{0, 3} }), []string{"layers: 3 out of range [0, 3)"}},
		{"negative layer", p, nil, with(func(c *Config) { c.Layers = []int{-1} }), []string{"layers: -1 out of range [0, 3)"}},
		{"repeated layer", p, nil, with(func(c *Config) { c.Layers = []int{2, 0, 2} }), []string{"layers: 2 given twice"}},
		{"empty positions", p, nil, with(func(c *Config) { c.Positions = []int{} }), []string{"positions: empty list"}},
		{"position past the prompt", p, nil, with(func(c *Config) { c.Positions = []int{5} }), []string{"positions: 5 out of range [0, 5)"}},
		{"negative position", p, nil, with(func(c *Config) { c.Positions = []int{-1} }), []string{"positions: -1 out of range"}},
		{"repeated position", p, nil, with(func(c *Config) { c.Positions = []int{1, 1} }), []string{"positions: 1 given twice"}},
		{"h.pos positions past the prompt", p, nil, with(func(c *Config) {
			c.Unit, c.Component, c.Positions = pv.HeadPos, lm.HeadValueOutput, []int{9}
		}), []string{"positions: 9 out of range [0, 5)"}},
		{"positions with unit h", p, nil, with(func(c *Config) { c.Unit, c.Component, c.Positions = pv.Head, lm.HeadValueOutput, []int{0} }), []string{"positions: [0] given, but unit \"h\""}},
		{"empty prompt", lm.Prompt{}, nil, ok, []string{"base prompt", "empty"}},
		{"prompt token outside the vocabulary", prompt(1, 200), nil, ok, []string{"base prompt", "id 200 out of range [0, 97)"}},
		{"prompt longer than the model's positions", prompt(make([]int, 40)...), nil, ok, []string{"base prompt", "40 tokens; the model takes at most 32"}},
		{"corruption past the prompt", p, &Corruption{Positions: []int{1, 7}, Level: 1}, ok, []string{"corruption positions: 7 out of range [0, 5)"}},
		{"negative corruption position", p, &Corruption{Positions: []int{-1}, Level: 1}, ok, []string{"corruption positions: -1 out of range [0, 5)"}},
		{"repeated corruption position", p, &Corruption{Positions: []int{2, 2}, Level: 1}, ok, []string{"corruption positions: 2 given twice"}},
		{"no corruption positions", p, &Corruption{Level: 1}, ok, []string{"corruption positions: none given"}},
		{"NaN corruption level", p, &Corruption{Positions: []int{1}, Level: nan6}, ok, []string{"corruption level: NaN"}},
		{"infinite corruption level", p, &Corruption{Positions: []int{1}, Level: math.Inf(1)}, ok, []string{"corruption level: +Inf"}},
		{"negative corruption level", p, &Corruption{Positions: []int{1}, Level: -3}, ok, []string{"corruption level: -3"}},
		{"corruption level infinite in float32", p, &Corruption{Positions: []int{1}, Level: 1e39}, ok, []string{"corruption level: 1e+39 must be a finite float32"}},
		{"unknown component with a corruption", p, &Corruption{Positions: []int{1}, Level: 1}, with(func(c *Config) { c.Component = "resid" }), []string{`"resid" is not a per-layer component`}},
	}
	// Both paths (resumed and plain) share one validation: every case must
	// fail the same way on each.
	for _, resume := range []bool{true, false} {
		sw := New(m, Resume(resume))
		for _, tt := range tests {
			t.Run(tt.name+map[bool]string{true: "/resumed", false: "/plain"}[resume], func(t *testing.T) {
				var err error
				if tt.corrupt != nil {
					_, err = sw.Trace(tt.base, *tt.corrupt, tt.cfg)
				} else {
					_, err = sw.Patch(tt.base, p, tt.cfg)
				}
				wantErr(t, err, tt.want...)
			})
		}
	}
	// A short source: default columns would run past it.
	_, err := New(m).Patch(p, prompt(1, 2), ok)
	wantErr(t, err, "positions: every position of the base (5 tokens)", "the source has only 2")
	_, err = new(Sweeper).Patch(p, p, ok)
	wantErr(t, err, "no model")
	_, err = New(nil).Trace(p, Corruption{Positions: []int{1}}, ok)
	wantErr(t, err, "no model")
}

// Unusual but valid sweeps (unordered layers and positions, windows past
// the model, one-setting chunks, a source longer than the base) give the
// same grid on the resumed and the plain path.
func TestReliabilitySweepPathsAgree(t *testing.T) {
	m := tiny(t)
	p := prompt(3, 14, 15, 92, 65)
	for _, cfg := range []Config{
		{Component: lm.MLPActivation, Window: 5},
		{Component: lm.HeadAttentionValueOutput, Unit: pv.HeadPos, Positions: []int{2, 0}},
		{Component: lm.HeadQueryOutput, Unit: pv.HeadPos, Positions: []int{4}, Window: 2},
		{Component: lm.ResidMid, Positions: []int{4, 0}, Layers: []int{2, 0}, ChunkSize: 1, MaxBytes: 1},
		{Component: lm.AttentionInput, Positions: []int{3, 1}, Layers: []int{1}, Window: 7},
		{Component: lm.KeyOutput, Window: 3, Metric: LogitDiff(3, 4)},
	} {
		if cfg.Metric == nil {
			cfg.Metric = TokenProb(3)
		}
		for _, corrupt := range []bool{false, true} {
			var res [2]*Result
			for k, resume := range []bool{true, false} {
				sw := New(m, Resume(resume))
				var err error
				if corrupt {
					res[k], err = sw.Trace(p, Corruption{Positions: []int{1, 4}, Level: 1}, cfg)
				} else {
					res[k], err = sw.Patch(p, prompt(1, 2, 3, 4, 5, 6), cfg)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if d := gridDiff(res[0], res[1]); d > 1e-4 {
				t.Errorf("%v %v corrupt=%v: paths differ by %g\n%v\n%v", cfg.Component, cfg.Unit, corrupt, d, res[0].Values, res[1].Values)
			}
		}
	}
}

// gridDiff returns the largest difference between two sweeps' scores.
func gridDiff(a, b *Result) float64 {
	d := math.Max(math.Abs(a.Base-b.Base), math.Abs(a.Source-b.Source))
	if len(a.Values) != len(b.Values) {
		return math.Inf(1)
	}
	for r := range a.Values {
		if len(a.Values[r]) != len(b.Values[r]) {
			return math.Inf(1)
		}
		for c := range a.Values[r] {
			d = math.Max(d, math.Abs(a.Values[r][c]-b.Values[r][c]))
		}
	}
	return d
}
