package llama

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/govene/govene/causal"
	"github.com/govene/govene/gemma2"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/safetensors"
)

func TestScratchParity(t *testing.T) {
	for _, fam := range []string{"llama", "mistral", "qwen2", "gemma2", "neox"} {
		dir := filepath.Join("/tmp/fam", fam)
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		t.Run(fam, func(t *testing.T) {
			m, err := loadScratch(dir)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := safetensors.Open(filepath.Join(dir, "ref.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			want, _, _ := ref.Float32("logits")
			r, err := m.Run([]lm.Prompt{{IDs: []int{5, 17, 33, 2, 8, 90, 41, 7}}})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := tensors.CopyFlatData[float32](r.Logits)
			var md, mx float64
			for i := range want {
				md = math.Max(md, math.Abs(float64(got[i]-want[i])))
				mx = math.Max(mx, math.Abs(float64(want[i])))
			}
			t.Logf("%s max diff %g (max %g)", fam, md, mx)
			if md > 1e-5*mx {
				t.Fatal("mismatch")
			}
		})
	}
}

var loadScratch = func(dir string) (*causal.Model, error) {
	switch filepath.Base(dir) {
	case "gemma2":
		return gemma2.LoadDir(dir, causal.Options{})
	}
	return LoadDir(dir, causal.Options{})
}
