package sweep

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
)

// A MetricSpec gives the metric its kind names, the same as govene's Func,
// and ConfigFrom keeps every data field.
func TestMetricOfAndConfigFrom(t *testing.T) {
	logits := []float32{0.5, -1, 2, 0}
	for _, tt := range []struct {
		spec    govene.MetricSpec
		want    Metric
		wantErr string
	}{
		{govene.MetricSpec{Kind: govene.MetricTokenProb, Tokens: []int{2}}, TokenProb(2), ""},
		{govene.MetricSpec{Kind: govene.MetricLogitDiff, Tokens: []int{0, 1}}, LogitDiff(0, 1), ""},
		{govene.MetricSpec{Kind: "prob", Tokens: []int{2}}, nil, `metric.kind: "prob" is not valid`},
		{govene.MetricSpec{Kind: govene.MetricLogitDiff, Tokens: []int{2}}, nil, "metric.tokens: logit_diff takes 2"},
		{govene.MetricSpec{Kind: govene.MetricTokenProb, Tokens: []int{-1}}, nil, "metric.tokens[0]: token id -1"},
	} {
		m, err := MetricOf(tt.spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("MetricOf(%+v): error %v, want %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		f, ferr := tt.spec.Func()
		if err != nil || ferr != nil {
			t.Fatalf("MetricOf(%+v): %v, %v", tt.spec, err, ferr)
		}
		if got, want := m(logits), tt.want(logits); got != want || math.Abs(f(logits)-want) > 1e-6 {
			t.Errorf("%+v: MetricOf gives %g, Func %g, want %g", tt.spec, got, f(logits), want)
		}
	}
	g := govene.SweepConfig{Component: lm.MLPOutput, Unit: "h", Layers: []int{1, 2}, Positions: []int{3}, Window: 2,
		Metric: govene.MetricSpec{Kind: govene.MetricTokenProb, Tokens: []int{1}}, ChunkSize: 8, MaxBytes: 1 << 20}
	c, err := ConfigFrom(g)
	if err != nil {
		t.Fatal(err)
	}
	if c.Metric == nil || c.Component != g.Component || c.Unit != g.Unit || !reflect.DeepEqual(c.Layers, g.Layers) ||
		!reflect.DeepEqual(c.Positions, g.Positions) || c.Window != 2 || c.ChunkSize != 8 || c.MaxBytes != 1<<20 {
		t.Errorf("ConfigFrom(%+v) = %+v", g, c)
	}
	if n := reflect.TypeOf(Config{}).NumField(); n != reflect.TypeOf(g).NumField()+1 {
		t.Errorf("sweep.Config has %d fields, govene.SweepConfig %d; want all but OnProgress", n, reflect.TypeOf(g).NumField())
	}
	if _, err := ConfigFrom(govene.SweepConfig{}); err == nil || !strings.Contains(err.Error(), "metric.kind") {
		t.Errorf("ConfigFrom without a metric: %v", err)
	}
	f, _ := govene.MetricSpec{Kind: govene.MetricTokenProb, Tokens: []int{9}}.Func()
	if v := f(logits); !math.IsNaN(v) {
		t.Errorf("Func with an id past the logits = %g, want NaN", v)
	}
}
