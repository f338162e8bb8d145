package job

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/govene/govene/internal/testxla"
	"github.com/govene/govene/lm"
)

// TestDevicesJobs runs collect (every position, two sites), patch and iia on the
// XLA CPU plugin on every host device and on device 0 alone, and checks
// the shards agree: the same rows, offsets, top tokens, predictions and IIA, and
// activations within float rounding (XLA's CPU kernels round by batch
// shape, about 1e-5; see pv's xlaTol).
func TestDevicesJobs(t *testing.T) {
	testxla.Devices(t)
	const tol = 1e-4
	for _, c := range []struct {
		kind  string
		sites []string
	}{
		{Collect, []string{"blocks.2.block_output", "blocks.5.head_result"}},
		{Patch, []string{"blocks.4.block_output"}},
		{IIA, []string{"blocks.4.block_output"}},
	} {
		run := func(devices []int) (shard, *Manifest, string) {
			spec := testSpec(t, c.kind, c.sites...)
			spec.Backend, spec.Devices, spec.BatchSize = "xla", devices, 7
			if c.kind == Collect {
				spec.Positions = All
			}
			m := runJob(t, spec)
			return allShards(t, spec.Out, m), m, spec.Out
		}
		all, mAll, outAll := run([]int{lm.All})
		one, mOne, _ := run([]int{0})
		if mAll.Rows != mOne.Rows || len(mAll.Shards) != len(mOne.Shards) {
			t.Fatalf("%s: %d rows in %d shards on all devices, %d in %d on one", c.kind, mAll.Rows, len(mAll.Shards), mOne.Rows, len(mOne.Shards))
		}
		for name, want := range one.i64 {
			got := all.i64[name]
			if len(got) != len(want) {
				t.Fatalf("%s: %s has %d values on all devices, %d on one", c.kind, name, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("%s: %s[%d] = %d on all devices, %d on one", c.kind, name, i, got[i], want[i])
				}
			}
		}
		for name, want := range one.f32 {
			got := all.f32[name]
			if len(got) != len(want) {
				t.Fatalf("%s: %s has %d values on all devices, %d on one", c.kind, name, len(got), len(want))
			}
			worst := 0.0
			for i := range want {
				worst = max(worst, math.Abs(float64(got[i]-want[i]))/(1+math.Abs(float64(want[i]))))
			}
			if worst > tol {
				t.Errorf("%s: %s differs by up to %.3g (relative) between all devices and one; want <= %g", c.kind, name, worst, tol)
			}
			t.Logf("%s: %s: %d values, largest difference %.3g", c.kind, name, len(want), worst)
		}
		for k, v := range mOne.Summary {
			if mAll.Summary[k] != v {
				t.Errorf("%s: summary %s = %v on all devices, %v on one", c.kind, k, mAll.Summary[k], v)
			}
		}
		if c.kind == Collect {
			// The activations differ between rows: a split that put every
			// part's rows in one place would not pass unnoticed.
			v := all.f32["blocks.2.block_output"]
			d := len(v) / int(all.i64["offsets"][len(all.i64["offsets"])-1])
			if v[0] == v[d*int(all.i64["offsets"][1])] {
				t.Errorf("collect: rows 0 and 1 start with the same value %v", v[0])
			}
		}
		// A job resumed on another device set keeps what the first wrote.
		spec := testSpec(t, c.kind, c.sites...)
		spec.Backend, spec.Devices, spec.BatchSize, spec.Out = "xla", []int{0}, 7, outAll
		if c.kind == Collect {
			spec.Positions = All
		}
		before := outFiles(t, outAll)
		runJob(t, spec)
		after := outFiles(t, outAll)
		for name, b := range before {
			if filepath.Ext(name) == ".safetensors" && string(after[name]) != string(b) {
				t.Errorf("%s: %s was rewritten when the job resumed on device 0", c.kind, name)
			}
		}
	}
}
