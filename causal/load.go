package causal

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/govene/govene/bpe"
	"github.com/govene/govene/internal/checkpoint"
	"github.com/govene/govene/internal/fsx"
	"github.com/govene/govene/safetensors"
)

// MaxIndexBytes bounds model.safetensors.index.json.
const MaxIndexBytes = 16 << 20

// ignored matches tensors a checkpoint may carry that no architecture
// needs: rotary and mask buffers older transformers versions saved.
var ignored = regexp.MustCompile(`(rotary_emb\.inv_freq|attention\.(bias|masked_bias))$`)

// LoadDir loads arch's weights from a checkpoint folder in Hugging Face
// layout: model.safetensors, or model.safetensors.index.json and the shards
// it names, with float32, float16, bfloat16 or float64 tensors (converted
// to float32), and the tokenizer from tokenizer.json (none when the folder
// has no tokenizer files). Every tensor's name, shape and dtype is checked
// against arch before anything is allocated; errors name the file, the
// tensor, what it holds and what arch needs. Tensors arch does not need
// (a saved tied lm_head, rotary buffers) are skipped; any other extra
// tensor is an error, as a missing one is.
func LoadDir(dir string, arch Arch, opt Options) (*Model, error) {
	files, err := weightFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: load %s: %w", arch.Family(), dir, err)
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	where, err := locate(arch, files)
	if err != nil {
		return nil, fmt.Errorf("%s: load %s: %w", arch.Family(), dir, err)
	}
	if opt.Tokenizer == nil && hasTokenizerFiles(dir) {
		tok, err := bpe.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: load %s: %w", arch.Family(), dir, err)
		}
		if tok.VocabSize() > arch.Dims().Vocab {
			return nil, fmt.Errorf("%s: load %s: the tokenizer has %d tokens but vocab_size is %d", arch.Family(), dir, tok.VocabSize(), arch.Dims().Vocab)
		}
		opt.Tokenizer = tok
	}
	return New(arch, opt, dir, func(p Param, dst []float32) error {
		loc := where[p.Name]
		if _, err := loc.File.Float32Into(loc.Name, dst); err != nil {
			return fmt.Errorf("%s: load %s: %w", arch.Family(), dir, err)
		}
		loc.File.Release(loc.Name) // keep the peak near one copy of the weights
		return nil
	})
}

func hasTokenizerFiles(dir string) bool {
	for _, n := range []string{"tokenizer.json", "vocab.json"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// weightFiles opens model.safetensors, or the shards that
// model.safetensors.index.json names (plain file names inside dir).
func weightFiles(dir string) (map[string]*safetensors.File, error) {
	single := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(single); err == nil {
		f, err := safetensors.Open(single)
		if err != nil {
			return nil, err
		}
		return map[string]*safetensors.File{"model.safetensors": f}, nil
	}
	indexPath := filepath.Join(dir, "model.safetensors.index.json")
	data, err := fsx.ReadFile(indexPath, "model.safetensors.index.json", MaxIndexBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("no model.safetensors or model.safetensors.index.json (govene reads safetensors weights; convert a pytorch_model.bin with transformers' save_pretrained(safe_serialization=True))")
	}
	if err != nil {
		return nil, err
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s: %w", indexPath, err)
	}
	if len(index.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: weight_map is empty", indexPath)
	}
	files := map[string]*safetensors.File{}
	for _, shard := range index.WeightMap {
		if _, ok := files[shard]; ok {
			continue
		}
		if shard == "" || shard != filepath.Base(shard) || shard == "." || shard == ".." {
			closeAll(files)
			return nil, fmt.Errorf("%s: shard %q; valid: a file name inside the checkpoint folder", indexPath, shard)
		}
		f, err := safetensors.Open(filepath.Join(dir, shard))
		if err != nil {
			closeAll(files)
			return nil, fmt.Errorf("shard %s (named in %s): %w", shard, indexPath, err)
		}
		files[shard] = f
	}
	return files, nil
}

func closeAll(files map[string]*safetensors.File) {
	for _, f := range files {
		f.Close()
	}
}

// locate finds each of arch's weights in files (under its name, or with a
// prefix such as "model." dropped or added), and checks shapes and dtypes.
func locate(arch Arch, files map[string]*safetensors.File) (map[string]checkpoint.Stored, error) {
	shards := slices.Sorted(maps.Keys(files))
	ordered := make([]*safetensors.File, len(shards))
	for i, s := range shards {
		ordered[i] = files[s]
	}
	desc := arch.String()
	return checkpoint.Match{
		Want: checkpointTensors(arch.Params()),
		Rename: func(n string, wanted func(string) bool) string {
			if !wanted(n) && wanted("model."+n) {
				return "model." + n
			}
			return n
		},
		Skip: func(n string) bool {
			return ignored.MatchString(n) || n == "lm_head.weight" || n == "embed_out.weight" // tied: the embedding serves
		},
		For:    desc,
		Hint:   "does config.json match the weights? " + desc,
		Config: desc,
	}.Locate(ordered)
}

// checkpointTensors lists the names and shapes of specs.
func checkpointTensors(specs []Param) []checkpoint.Tensor {
	ts := make([]checkpoint.Tensor, len(specs))
	for i, p := range specs {
		ts[i] = checkpoint.Tensor{Name: p.Name, Shape: p.Shape}
	}
	return ts
}
