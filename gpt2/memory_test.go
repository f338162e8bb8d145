package gpt2

import (
	"path/filepath"
	"testing"

	"github.com/govene/govene/internal/testx"
)

// TestLoadPeakMemory loads a float32 checkpoint in a fresh process and
// checks that the peak resident memory added by loading stays under 1.5
// times the weights' bytes (the safetensors file is memory-mapped and its
// pages are released tensor by tensor; the weights go straight into the
// backend's buffers).
func TestLoadPeakMemory(t *testing.T) {
	if testx.MeasureInChild(func(dir string) (any, error) { return LoadDir(dir, Options{}) }) {
		return
	}
	c := DefaultConfig() // GPT-2 small: 124M parameters, 498 MB in float32
	m, err := Random(c, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	weights := int64(c.NumParams()) * 4
	m = nil
	added := testx.ChildPeak(t, "TestLoadPeakMemory", dir)
	ratio := float64(added) / float64(weights)
	t.Logf("weights %.0f MB, peak added by loading %.0f MB (%.2fx)", float64(weights)/1e6, float64(added)/1e6, ratio)
	if ratio > 1.5 {
		t.Errorf("loading peaked at %.2fx the weights' bytes, want under 1.5x", ratio)
	}
}
