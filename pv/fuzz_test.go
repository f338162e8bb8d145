package pv

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/govene/govene/internal/testx"
	"github.com/govene/govene/lm"
)

// The fuzz targets load the tiny test model and build their intervenable
// models once; each input is then parsed, validated and, where that is
// cheap, run.

type fuzzModels struct {
	parallel, heads, hpos, serial *Model
}

var fuzzSet = sync.OnceValues(func() (*fuzzModels, error) {
	m, err := tinyModel()
	if err != nil {
		return nil, err
	}
	f := &fuzzModels{}
	for _, x := range []struct {
		p   **Model
		cfg Config
	}{
		{&f.parallel, Config{Representations: []RepresentationConfig{{Layer: 0}, {Layer: 2, Component: lm.MLPOutput, InterventionType: Collect}}}},
		{&f.heads, Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.HeadKeyOutput, Unit: Head}}}},
		{&f.hpos, Config{Representations: []RepresentationConfig{{Layer: 1, Component: lm.HeadValueOutput, Unit: HeadPos, MaxNumberOfUnits: 2}}}},
		{&f.serial, Config{Mode: Serial, Representations: []RepresentationConfig{{Layer: 0}, {Layer: 1}}}},
	} {
		if *x.p, err = New(m, x.cfg); err != nil {
			return nil, err
		}
	}
	return f, nil
})

// fuzzModelSet returns fuzzSet, or fails t.
var fuzzModelSet = testx.Must(fuzzSet)

// FuzzPyveneLocations feeds unit_locations JSON to Forward on parallel
// ("pos", "h", "h.pos") and serial models: every input must give a result
// or an error, never a panic; a result has the base's shape.
func FuzzPyveneLocations(f *testing.F) {
	for _, s := range []string{
		`{"sources->base": 1}`, `{"sources->base": [0, 2]}`, `{"sources->base": [null, 1]}`, `{"base": 2}`,
		`{"sources->base": [0, 1, 2]}`, `{"sources->base": [[[[0]], [[1]]], [[[2]], [[0]]]]}`,
		`{"sources->base": [[[[[0]], [[1]]]], [[[[2]], [[0]]]]]}`, `{"sources->base": [[[[1]]], null]}`,
		`{"source_0->source_1": 0, "source_1->base": [1, 2]}`, `{"source_0->source_1": [[[[0]]], [[[1]]]], "source_1->base": 2}`,
		`null`, `{}`, `{"sources->base": [1, null]}`, `{"sources->base": -1}`, `{"sources->base": 1e30}`,
	} {
		f.Add([]byte(s))
	}
	set := fuzzModelSet(f)
	base, src := []lm.Prompt{prompt(1, 2, 3)}, prompt(4, 5, 6)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, iv := range []*Model{set.parallel, set.heads, set.hpos, set.serial} {
			opts := []Option{Sources(src), PyveneLocations(data)}
			if iv == set.serial {
				opts[0] = Sources(src, src)
			}
			out, err := iv.Forward(base, opts...)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "pv: ") {
					t.Errorf("error without the package prefix: %v", err)
				}
				continue
			}
			if dims := out.Logits.Shape().Dimensions; dims[0] != 1 || dims[1] != 3 {
				t.Errorf("%s: logits %v for a base of 1x3", data, dims)
			}
		}
	})
}

// FuzzTrainConfig validates DAS training configs and examples read from
// JSON: an accepted config has every size and temperature in range, and
// accepted examples turn into Forward arguments without error.
func FuzzTrainConfig(f *testing.F) {
	f.Add([]byte(`{"epochs": 2, "batch_size": 4, "adam": {"lr": 0.01}}`), []byte(`[{"base": {"ids": [1, 2, 3]}, "sources": [{"ids": [4, 5, 6]}], "label": 3}]`))
	f.Add([]byte(`{"epochs": -1, "temperature_start": -5, "boundary_l1": 1e400}`), []byte(`[{"base": {"ids": [1]}, "sources": [], "label": -1}]`))
	f.Add([]byte(`{"adam": {"beta1": 1, "eps": -1, "clip_norm": -1, "warmup_steps": -2}}`), []byte(`[{"base": {"ids": [1, 2]}, "sources": [{"ids": [1]}], "source_units": [[0], [1]], "label": 96}]`))
	f.Add([]byte(`{"batch_size": 9223372036854775807, "eval_every": -1, "patience": -1}`), []byte(`[{"base": {"ids": [5]}, "sources": [{"ids": [1, 2]}], "base_units": [[0]], "subspaces": [[0, 1]], "label": 0}]`))
	m := tiny(f)
	iv, err := New(m, Config{Representations: []RepresentationConfig{{Layer: 2, InterventionType: LowRankRotatedSpace, LowRankDimension: 2}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, cfgJSON, examplesJSON []byte) {
		var cfg TrainConfig
		if json.Unmarshal(cfgJSON, &cfg) == nil {
			got, err := cfg.validate()
			if err == nil {
				if got.Epochs < 1 || got.Epochs > MaxEpochs || got.BatchSize < 1 || got.BatchSize > MaxBatchSize || got.EvalEvery < 0 || got.Patience < 0 ||
					!(got.TemperatureStart > 0) || !(got.TemperatureEnd > 0) || !finite(got.TemperatureStart) || !finite(got.TemperatureEnd) || !finite(got.BoundaryL1) || got.BoundaryL1 < 0 {
					t.Fatalf("accepted %+v", got)
				}
			} else if !strings.HasPrefix(err.Error(), "pv: train: ") {
				t.Errorf("error without the prefix: %v", err)
			}
		}
		var examples []Example
		if json.Unmarshal(examplesJSON, &examples) != nil || len(examples) == 0 || len(examples) > 64 {
			return
		}
		if err := iv.checkExamples("data", examples); err != nil {
			return
		}
		for _, ex := range examples {
			if ex.Label < 0 || ex.Label >= m.Dims().Vocab {
				t.Fatalf("accepted label %d", ex.Label)
			}
		}
		if _, _, err := iv.exampleCall(examples); err != nil {
			t.Fatalf("accepted examples failed to become a call: %v", err)
		}
	})
}

// FuzzConfigJSON validates intervention configs read from JSON against the
// tiny model; an accepted config must build (weights of a bounded size)
// and name every representation with a key.
func FuzzConfigJSON(f *testing.F) {
	for _, s := range []string{
		`{"representations": [{"layer": 0, "component": "block_output"}]}`,
		`{"representations": [{"layer": 1, "component": "head_value_output", "unit": "h.pos", "max_number_of_units": 2}], "mode": "serial"}`,
		`{"representations": [{"layer": 2, "intervention_type": "AutoencoderIntervention", "low_rank_dimension": 17179869184}]}`,
		`{"representations": [{"intervention_type": "pca_rotated_space", "low_rank_dimension": 17}]}`,
		`{"representations": [{"subspace_partition": [[8, 4], []]}]}`,
		`{"representations": [{"intervention_type": "low_rank_rotated_space", "low_rank_dimension": 4, "intervention_link_key": 1}, {"layer": 1, "intervention_type": "rotated_space", "intervention_link_key": 1}]}`,
		`{"representations": [{"group_key": 0}, {"layer": 1}]}`,
		`{"representations": [{"intervention_type": "noise", "noise_level": -1}, {"source_representation": [1, 2]}]}`,
	} {
		f.Add([]byte(s))
	}
	m := tiny(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg Config
		if json.Unmarshal(data, &cfg) != nil {
			return
		}
		if err := cfg.Validate(m.Dims()); err != nil {
			if !strings.HasPrefix(err.Error(), "pv: invalid config: ") {
				t.Errorf("error without the prefix: %v", err)
			}
			return
		}
		for _, r := range cfg.Representations {
			if r.LowRankDimension > 4096 {
				return // valid but large: building it is slow, not wrong
			}
		}
		iv, err := New(m, cfg)
		if err != nil {
			t.Fatalf("a config that passed Validate failed New: %v", err)
		}
		for i, k := range iv.Keys() {
			if k == "" || k != cfg.withDefaults().Key(i) {
				t.Errorf("key %d: %q", i, k)
			}
		}
	})
}
