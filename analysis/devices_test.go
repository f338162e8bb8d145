package analysis_test

import (
	"path/filepath"
	"testing"

	"github.com/govene/govene/analysis"
	"github.com/govene/govene/internal/testxla"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
)

// RunWithCache on a GQA model split across the XLA CPU plugin's devices
// caches what device 0 alone caches: the same batch, the logits and every
// site within float rounding, and the same norm kind.
func TestRunWithCacheDevices(t *testing.T) {
	xb := testxla.Devices(t)
	ckpt := filepath.Join("..", "models", "testdata", "llama")
	prompts := append(append([]lm.Prompt{}, lensPrompts...), lm.Prompt{IDs: []int{9, 1, 2}}, lm.Prompt{IDs: []int{30, 31, 32, 33, 34, 35}}, lm.Prompt{IDs: []int{5}})
	var caches []*analysis.Cache
	for _, devices := range [][]int{{0}, {0, 1, 2, 3}} {
		m, err := models.Load(ckpt, models.Options{Backend: xb, Devices: devices})
		if err != nil {
			t.Fatal(err)
		}
		c, err := analysis.RunWithCache(m, prompts)
		if err != nil {
			t.Fatalf("devices %v: %v", devices, err)
		}
		caches = append(caches, c)
	}
	one, all := caches[0], caches[1]
	if all.Batch.Len != one.Batch.Len || all.Batch.Size != one.Batch.Size || all.Centered != one.Centered {
		t.Errorf("4 devices: batch %dx%d centered %v; one device %dx%d centered %v", all.Batch.Size, all.Batch.Len, all.Centered, one.Batch.Size, one.Batch.Len, one.Centered)
	}
	if msg := lensClose(all.Logits, one.Logits, 1e-5); msg != "" {
		t.Errorf("logits: %s", msg)
	}
	for _, s := range lm.AllSites(one.Dims) {
		if one.Site(s) == nil {
			continue
		}
		if msg := lensClose(all.Site(s), one.Site(s), 1e-5); msg != "" {
			t.Errorf("site %s: %s", s, msg)
		}
	}
}
