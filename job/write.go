package job

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/safetensors"
)

// countWriter counts the bytes written through it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// write writes shard sh's tensors atomically, then its sidecar, and
// returns the sidecar's info. The old sidecar goes first, so that until the
// new one is written the shard does not count as finished.
func (w *Worker) write(sh Shard, out shardOut) (ShardInfo, error) {
	p := w.plan
	dir := p.Spec.Out
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ShardInfo{}, fmt.Errorf("job: out: %w", err)
	}
	side := filepath.Join(dir, sidecar(sh.File))
	if err := os.Remove(side); err != nil && !errors.Is(err, os.ErrNotExist) {
		return ShardInfo{}, fmt.Errorf("job: shard %d: %w", sh.Index, err)
	}
	meta := map[string]string{
		"format":         "govene-job-1",
		"kind":           p.Spec.Kind,
		"spec_hash":      p.SpecHash,
		"dataset_sha256": p.DatasetSHA256,
		"first":          strconv.Itoa(sh.First),
		"end":            strconv.Itoa(sh.End),
	}
	info := ShardInfo{Shard: sh, SpecHash: p.SpecHash, DatasetSHA256: p.DatasetSHA256, Rows: sh.End - sh.First,
		Tensors: map[string][]int{}, Summary: out.summary}
	for _, t := range out.tensors {
		info.Tensors[t.Name] = t.Shape
	}
	h, n := sha256.New(), &countWriter{}
	err := atomicfs.WriteFileFunc(filepath.Join(dir, sh.File), 0o644, func(f io.Writer) error {
		return safetensors.Encode(io.MultiWriter(f, h, n), out.tensors, meta)
	})
	if err != nil {
		return ShardInfo{}, fmt.Errorf("job: shard %d: %w", sh.Index, err)
	}
	info.Bytes, info.SHA256 = n.n, hex.EncodeToString(h.Sum(nil))
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return ShardInfo{}, fmt.Errorf("job: shard %d: sidecar: %w", sh.Index, err)
	}
	if err := atomicfs.WriteFile(side, append(data, '\n'), 0o644); err != nil {
		return ShardInfo{}, fmt.Errorf("job: shard %d: sidecar: %w", sh.Index, err)
	}
	return info, nil
}
