package sweep

import (
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/govene/govene/lm"
)

// fuzzSweepers: sweeper validates; resumed and plain run small sweeps,
// keeping their compiled graphs across inputs.
var fuzzSweepers = sync.OnceValues(func() ([3]*Sweeper, error) {
	m, err := tinyModel()
	return [3]*Sweeper{New(m), New(m), New(m, Resume(false))}, err
})

// FuzzSweepConfig validates sweep configs and corruptions read from JSON
// against prompts of fuzzed lengths and metrics of fuzzed token ids; a
// config that passes must describe a grid inside the prompts, and small
// ones are run on both sweep paths.
func FuzzSweepConfig(f *testing.F) {
	f.Add([]byte(`{"component": "block_output", "unit": "pos"}`), []byte(`{"positions": [1], "level": 1}`), uint8(5), uint8(5), 7, 8, false)
	f.Add([]byte(`{"component": "mlp_output", "window": 3, "layers": [0, 2]}`), []byte(`null`), uint8(4), uint8(6), 3, 0, true)
	f.Add([]byte(`{"component": "head_value_output", "unit": "h.pos", "positions": [2, 0]}`), []byte(`{"positions": [0, 1], "level": 2, "seed": 3}`), uint8(3), uint8(3), 1, 2, false)
	f.Add([]byte(`{"component": "head_query_output", "unit": "h"}`), []byte(`null`), uint8(3), uint8(3), -1, 0, true)
	f.Add([]byte(`{"chunk_size": -1, "max_bytes": -1, "window": -1, "layers": []}`), []byte(`{"positions": [7], "level": -1}`), uint8(0), uint8(2), 97, 0, false)
	set, err := fuzzSweepers()
	if err != nil {
		f.Fatal(err)
	}
	m := set[0].model
	f.Fuzz(func(t *testing.T, cfgJSON, corruptJSON []byte, baseLen, srcLen uint8, a, b int, diff bool) {
		var cfg Config
		if json.Unmarshal(cfgJSON, &cfg) != nil {
			return
		}
		var corrupt *Corruption
		if json.Unmarshal(corruptJSON, &corrupt) != nil {
			return
		}
		cfg.Metric = TokenProb(a)
		if diff {
			cfg.Metric = LogitDiff(a, b)
		}
		mk := func(n uint8) lm.Prompt {
			ids := make([]int, int(n)%40) // up to past the 32 positions
			for i := range ids {
				ids[i] = (i*7 + 3) % 97
			}
			return prompt(ids...)
		}
		base, src := mk(baseLen), mk(srcLen)
		if corrupt != nil {
			src = base
		}
		got, cols, err := set[0].check(base, src, corrupt, cfg)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "sweep: ") {
				t.Errorf("error without the prefix: %v", err)
			}
			return
		}
		d := m.Dims()
		if got.Window < 1 || got.ChunkSize < 1 || got.ChunkSize > MaxChunkSize || got.MaxBytes < 1 || len(got.Layers) == 0 || len(cols) == 0 {
			t.Fatalf("accepted config with sizes window %d chunk %d max_bytes %d, %d layers, %d columns", got.Window, got.ChunkSize, got.MaxBytes, len(got.Layers), len(cols))
		}
		for _, l := range got.Layers {
			if l < 0 || l >= d.Layers {
				t.Fatalf("accepted layer %d", l)
			}
		}
		for _, p := range got.Positions {
			if p < 0 || p >= base.Len() || p >= src.Len() {
				t.Fatalf("accepted position %d for prompts of %d and %d tokens", p, base.Len(), src.Len())
			}
		}
		// Small grids run for real on both paths.
		if len(got.Layers)*len(cols) > 8 || base.Len() > 6 {
			return
		}
		var res [2]*Result
		for k, sw := range set[1:] {
			var err error
			if corrupt != nil {
				res[k], err = sw.Trace(base, *corrupt, cfg)
			} else {
				res[k], err = sw.Patch(base, src, cfg)
			}
			if err != nil {
				t.Fatalf("resume=%v: a config that passed validation failed: %v", sw.Resumes(), err)
			}
		}
		// Scores agree up to float32 rounding (a LogitDiff is not bounded
		// by 1, so the tolerance is relative to the larger scores).
		scale := 1.0
		for _, r := range res {
			for _, row := range r.Values {
				for _, v := range row {
					scale = math.Max(scale, math.Abs(v))
				}
			}
		}
		if d := gridDiff(res[0], res[1]); d > 1e-4*scale {
			t.Errorf("resumed and plain sweeps differ by %g: %v vs %v", d, res[0].Values, res[1].Values)
		}
	})
}
