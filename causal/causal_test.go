package causal_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/causal"
	"github.com/govene/govene/gemma2"
	"github.com/govene/govene/internal/testx"
	"github.com/govene/govene/llama"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/neox"
	"github.com/govene/govene/safetensors"
)

// tinyArchs are one small architecture per family.
func tinyArchs(t testing.TB) map[string]causal.Arch {
	t.Helper()
	lc := llama.DefaultConfig("llama")
	lc.VocabSize, lc.HiddenSize, lc.IntermediateSize, lc.NumHiddenLayers = 64, 16, 24, 2
	lc.NumAttentionHeads, lc.NumKeyValueHeads, lc.MaxPositionEmbeddings = 4, 2, 32
	mc := lc
	mc.ModelType, mc.SlidingWindow = "mistral", new(int)
	*mc.SlidingWindow = 3
	qc := lc
	qc.ModelType, qc.TieWordEmbeddings = "qwen2", true
	gc := gemma2.DefaultConfig()
	gc.VocabSize, gc.HiddenSize, gc.IntermediateSize, gc.NumHiddenLayers = 64, 16, 24, 2
	gc.NumAttentionHeads, gc.NumKeyValueHeads, gc.HeadDim, gc.MaxPositionEmbeddings, gc.SlidingWindow = 4, 2, 6, 32, 3
	nc := neox.DefaultConfig()
	nc.VocabSize, nc.HiddenSize, nc.IntermediateSize, nc.NumHiddenLayers, nc.NumAttentionHeads, nc.MaxPositionEmbeddings = 64, 32, 24, 2, 4, 32
	archs := map[string]causal.Arch{}
	var err error
	if archs["llama"], err = llama.NewArch(lc); err != nil {
		t.Fatal(err)
	}
	if archs["mistral"], err = llama.NewArch(mc); err != nil {
		t.Fatal(err)
	}
	if archs["qwen2"], err = llama.NewArch(qc); err != nil {
		t.Fatal(err)
	}
	if archs["gemma2"], err = gemma2.NewArch(gc); err != nil {
		t.Fatal(err)
	}
	if archs["gpt_neox"], err = neox.NewArch(nc); err != nil {
		t.Fatal(err)
	}
	return archs
}

// load loads dir with the family's loader.
func load(dir, family string) (*causal.Model, error) {
	switch family {
	case "gemma2":
		return gemma2.LoadDir(dir, causal.Options{})
	case "gpt_neox":
		return neox.LoadDir(dir, causal.Options{})
	}
	return llama.LoadDir(dir, causal.Options{})
}

func logits(t *testing.T, m *causal.Model) []float32 {
	t.Helper()
	r, err := m.Run([]lm.Prompt{{IDs: []int{1, 5, 9, 2, 33, 60, 7}}, {IDs: []int{4, 8}}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := tensors.CopyFlatData[float32](r.Logits)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSaveLoadRoundTrip saves a random model of each family and loads it
// back (the config through config.json, the weights through safetensors):
// the same weights and logits, and a second save over the first works.
func TestSaveLoadRoundTrip(t *testing.T) {
	for family, arch := range tinyArchs(t) {
		t.Run(family, func(t *testing.T) {
			m, err := causal.Random(arch, 7, causal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Family() != family {
				t.Errorf("Family() = %q, want %q", m.Family(), family)
			}
			dir := t.TempDir()
			for range 2 {
				if err := m.Save(dir); err != nil {
					t.Fatal(err)
				}
			}
			back, err := load(dir, family)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(back.ParamNames(), m.ParamNames()) {
				t.Fatalf("names differ:\n%v\n%v", back.ParamNames(), m.ParamNames())
			}
			if got, want := logits(t, back), logits(t, m); !slices.Equal(got, want) {
				t.Errorf("logits after the round trip differ")
			}
			if back.Arch().String() != arch.String() {
				t.Errorf("arch %q after the round trip, want %q", back.Arch().String(), arch.String())
			}
		})
	}
}

// writeShards writes m's weights as a sharded checkpoint: two shards in
// dtype, an index, and m's config.json.
func writeShards(t *testing.T, m *causal.Model, dir string, dtype func(safetensors.Tensor) safetensors.Tensor) {
	t.Helper()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "model.safetensors"))
	names := m.ParamNames()
	shards := [2][]safetensors.Tensor{}
	index := map[string]string{}
	for i, p := range m.Params() {
		data, err := tensors.CopyFlatData[float32](p)
		if err != nil {
			t.Fatal(err)
		}
		k := i * 2 / len(names)
		shards[k] = append(shards[k], dtype(safetensors.F32Tensor(names[i], p.Shape().Dimensions, data)))
		index[names[i]] = []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[k]
	}
	for k, ts := range shards {
		if err := safetensors.Write(filepath.Join(dir, []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[k]), ts, nil); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": index})
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadSharded loads a checkpoint split over two shards.
func TestLoadSharded(t *testing.T) {
	for family, arch := range tinyArchs(t) {
		t.Run(family, func(t *testing.T) {
			m, err := causal.Random(arch, 3, causal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			writeShards(t, m, dir, func(x safetensors.Tensor) safetensors.Tensor { return x })
			back, err := load(dir, family)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := logits(t, back), logits(t, m); !slices.Equal(got, want) {
				t.Errorf("logits of the sharded checkpoint differ")
			}
		})
	}
}

// TestLoadBadCheckpoints checks that broken checkpoints give errors that
// name the problem.
func TestLoadBadCheckpoints(t *testing.T) {
	arch := tinyArchs(t)["llama"]
	m, err := causal.Random(arch, 1, causal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		break_ func(dir string)
		want   string
	}{
		{"no weights", func(dir string) { os.Remove(filepath.Join(dir, "model.safetensors")) }, "no model.safetensors"},
		{"shard outside the folder", func(dir string) {
			os.Remove(filepath.Join(dir, "model.safetensors"))
			os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(`{"weight_map":{"model.norm.weight":"../x.safetensors"}}`), 0o644)
		}, `shard "../x.safetensors"`},
		{"missing shard", func(dir string) {
			os.Remove(filepath.Join(dir, "model.safetensors"))
			os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(`{"weight_map":{"model.norm.weight":"gone.safetensors"}}`), 0o644)
		}, "gone.safetensors"},
		{"empty index", func(dir string) {
			os.Remove(filepath.Join(dir, "model.safetensors"))
			os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(`{"weight_map":{}}`), 0o644)
		}, "weight_map is empty"},
		{"index is a directory", func(dir string) {
			os.Remove(filepath.Join(dir, "model.safetensors"))
			os.Mkdir(filepath.Join(dir, "model.safetensors.index.json"), 0o755)
		}, "model.safetensors.index.json"},
		{"missing and extra tensors", func(dir string) {
			rewrite(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				ts[1].Name = "model.layers.0.surprise.weight"
				return ts
			})
		}, "missing 1 tensors"},
		{"wrong shape", func(dir string) {
			rewrite(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				last := len(ts) - 1
				ts[last] = safetensors.F32Tensor(ts[last].Name, []int{3, 5}, make([]float32, 15))
				return ts
			})
		}, "has shape [3 5]"},
		{"integer weights", func(dir string) {
			rewrite(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				ts[0] = safetensors.I64Tensor(ts[0].Name, ts[0].Shape, make([]int64, 64*16))
				return ts
			})
		}, "dtype I64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			c.break_(dir)
			_, err := llama.LoadDir(dir, causal.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// rewrite replaces dir's model.safetensors with edit's tensors.
func rewrite(t *testing.T, dir string, edit func([]safetensors.Tensor) []safetensors.Tensor) {
	t.Helper()
	path := filepath.Join(dir, "model.safetensors")
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, n := range f.Names() {
		v, shape, err := f.Float32(n)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.F32Tensor(n, shape, v))
	}
	f.Close()
	if err := safetensors.Write(path, edit(ts), nil); err != nil {
		t.Fatal(err)
	}
}

// TestLoadPeakMemory loads a bfloat16 checkpoint in two shards (a Llama of
// 57M weights, 229 MB in float32) in a fresh process and checks that the
// peak resident memory added by loading stays under 1.5 times the float32
// weights' bytes: the shards are memory-mapped, each tensor is converted
// into the backend's buffer and its pages released.
func TestLoadPeakMemory(t *testing.T) {
	if testx.MeasureInChild(func(dir string) (any, error) { return llama.LoadDir(dir, causal.Options{}) }) {
		return
	}
	c := llama.DefaultConfig("llama")
	c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads = 512, 1376, 8, 8, 4
	m, err := llama.Random(c, 1, causal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeShards(t, m, dir, toBF16)
	weights := m.NumParams() * 4
	m = nil
	added := testx.ChildPeak(t, "TestLoadPeakMemory", dir)
	ratio := float64(added) / float64(weights)
	t.Logf("weights %.0f MB in float32, peak added by loading %.0f MB (%.2fx)", float64(weights)/1e6, float64(added)/1e6, ratio)
	if ratio > 1.5 {
		t.Errorf("loading peaked at %.2fx the weights' bytes, want under 1.5x", ratio)
	}
}

// toBF16 stores a float32 tensor as bfloat16 (the upper half of each
// little-endian float32).
func toBF16(x safetensors.Tensor) safetensors.Tensor {
	out := make([]byte, len(x.Data)/2)
	for i := range len(out) / 2 {
		out[2*i], out[2*i+1] = x.Data[4*i+2], x.Data[4*i+3]
	}
	return safetensors.Tensor{Name: x.Name, DType: "BF16", Shape: x.Shape, Data: out}
}

// TestLayerParams checks each block's weight range: contiguous, the same
// size for every block, every name in it the block's, and refused for
// architectures whose blocks differ by more than their weights.
func TestLayerParams(t *testing.T) {
	for family, arch := range tinyArchs(t) {
		t.Run(family, func(t *testing.T) {
			m, err := causal.Random(arch, 1, causal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			names := m.ParamNames()
			layers := arch.Dims().Layers
			var size int
			for l := range layers {
				from, to, ok := m.LayerParams(l)
				if ok != arch.SharesLayers() {
					t.Fatalf("block %d: ok %v, SharesLayers %v", l, ok, arch.SharesLayers())
				}
				if !ok {
					return
				}
				if l == 0 {
					size = to - from
				}
				if to-from != size || size == 0 {
					t.Errorf("block %d holds %d weights, block 0 %d", l, to-from, size)
				}
				for _, n := range names[from:to] {
					if !strings.Contains(n, "layers."+strconv.Itoa(l)+".") {
						t.Errorf("block %d's range holds %q", l, n)
					}
				}
			}
			if _, _, ok := m.LayerParams(layers); ok {
				t.Errorf("block %d (out of range) has weights", layers)
			}
		})
	}
}
