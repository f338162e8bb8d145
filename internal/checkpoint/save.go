package checkpoint

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/safetensors"
)

// Save creates dir and writes params (params[i] is the float32 weight
// want[i] describes) to dir/model.safetensors, then config's output to
// dir/config.json; each file is replaced atomically. It returns the first
// error: creating dir, reading a weight (naming it), writing a file, or
// config's.
func Save(dir string, want []Tensor, params []*tensors.Tensor, config func() ([]byte, error)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ts := make([]safetensors.Tensor, 0, len(want))
	for i, t := range want {
		data, err := tensors.CopyFlatData[float32](params[i])
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		ts = append(ts, safetensors.F32Tensor(t.Name, t.Shape, data))
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	cfg, err := config()
	if err != nil {
		return err
	}
	return atomicfs.WriteFile(filepath.Join(dir, "config.json"), append(cfg, '\n'), 0o644)
}
