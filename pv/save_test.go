package pv

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/lm"
)

// saveLoad saves iv into a new folder and loads it back on m; it returns
// the folder and the loaded model, or fails t.
func saveLoad(t *testing.T, iv *Model, m lm.Model) (string, *Model) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "iv")
	if err := iv.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	return dir, back
}

func TestSaveLoad(t *testing.T) {
	m := tiny(t)
	link := 0
	cfg := Config{Representations: []RepresentationConfig{
		{Layer: 1, InterventionType: LowRankRotatedSpace, LowRankDimension: 3, InterventionLinkKey: &link},
		{Layer: 2, InterventionType: LowRankRotatedSpace, LowRankDimension: 3, InterventionLinkKey: &link},
		{Layer: 0, Component: lm.MLPOutput, InterventionType: BoundlessRotatedSpace},
	}}
	iv, err := New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Linked interventions share weights: counted once.
	if got, want := iv.TrainableParameters(), 16*3+16*16+1; got != want {
		t.Errorf("TrainableParameters = %d, want %d", got, want)
	}
	if _, err := iv.Train(dasTask(t, 16, 3), nil, TrainConfig{Epochs: 1, BatchSize: 8, Progress: io.Discard}); err != nil {
		t.Fatal(err)
	}
	dir, iv2 := saveLoad(t, iv, m)
	base, src := prompt(1, 2, 3, 4), prompt(5, 6, 7, 8)
	a, err := iv.Forward([]lm.Prompt{base}, Sources(src), At(3, 3))
	if err != nil {
		t.Fatal(err)
	}
	b, err := iv2.Forward([]lm.Prompt{base}, Sources(src), At(3, 3))
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(tensors.MustCopyFlatData[float32](a.Logits), tensors.MustCopyFlatData[float32](b.Logits)); d != 0 {
		t.Errorf("reloaded interventions differ by %g", d)
	}
	// Saving again over the same folder replaces it.
	if err := iv2.Save(dir); err != nil {
		t.Fatal(err)
	}
	// A model of another size is refused.
	c := m.Config()
	c.NEmbd = 32
	other, _ := gpt2.Random(c, 1, gpt2.Options{})
	if _, err := Load(dir, other); err == nil || !strings.Contains(err.Error(), "saved for a model") {
		t.Errorf("loading for another model: %v", err)
	}
	// A corrupted weights file is refused.
	w := filepath.Join(dir, "interventions.safetensors")
	data, _ := os.ReadFile(w)
	os.WriteFile(w, data[:len(data)/2], 0o644)
	if _, err := Load(dir, m); err == nil || !strings.Contains(err.Error(), "interventions.safetensors") {
		t.Errorf("loading a truncated file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope"), m); err == nil {
		t.Error("loading a missing folder should fail")
	}
}
