package job

import (
	"testing"

	"github.com/govene/govene/safetensors"
)

// shardBytes is the size of the benchmarks' shard: 128 prompts x 64 tokens
// of a 768-wide site (GPT-2 small's residual), about 24 MiB, as bench/scale.sh
// writes with -positions all.
const shardRows, shardTokens, shardWidth = 128, 64, 768

// benchShard returns a worker writing into a fresh folder and one shard's
// outputs.
func benchShard(b *testing.B) (*Worker, Shard, shardOut) {
	values := make([]float32, shardRows*shardTokens*shardWidth)
	for i := range values {
		values[i] = float32(i%1013) * 0.001
	}
	offsets := make([]int64, shardRows+1)
	rows := make([]int64, shardRows)
	for i := range rows {
		rows[i], offsets[i+1] = int64(i), int64((i+1)*shardTokens)
	}
	out := shardOut{tensors: []safetensors.Tensor{
		safetensors.F32Tensor("blocks.11.block_output", []int{shardRows * shardTokens, shardWidth}, values),
		safetensors.I64Tensor("offsets", []int{shardRows + 1}, offsets),
		safetensors.I64Tensor("row", []int{shardRows}, rows),
	}}
	p := &Plan{Spec: Spec{Kind: Collect, Out: b.TempDir()}, SpecHash: "bench", DatasetSHA256: "bench", Rows: shardRows}
	sh := Shard{Index: 0, First: 0, End: shardRows, File: ShardFile(0)}
	p.Shards = []Shard{sh}
	b.SetBytes(int64(len(values)) * 4)
	return &Worker{plan: p}, sh, out
}

// BenchmarkShardWrite measures writing one shard as a job does: the
// safetensors file through a temporary, fsync and rename, its sha256, then
// the sidecar (MB/s is the shard's tensor bytes per second).
func BenchmarkShardWrite(b *testing.B) {
	w, sh, out := benchShard(b)
	for b.Loop() {
		if _, err := w.write(sh, out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkShardVerify measures the check a resumed job makes of a
// finished shard: the sidecar read and the shard file's sha256.
func BenchmarkShardVerify(b *testing.B) {
	w, sh, out := benchShard(b)
	if _, err := w.write(sh, out); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, ok := w.plan.Verify(sh); !ok {
			b.Fatal("the shard just written does not verify")
		}
	}
}
