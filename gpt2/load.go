package gpt2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/govene/govene/bpe"
	"github.com/govene/govene/hub"
	"github.com/govene/govene/internal/checkpoint"
	"github.com/govene/govene/safetensors"
)

// LoadOptions configure Load.
type LoadOptions struct {
	Options
	// Hub configures the Hugging Face cache and Hub lookup (revision, cache
	// folder, offline mode, token, progress output).
	Hub hub.Options
}

// Load loads a GPT-2 checkpoint in Hugging Face layout from a folder, from the
// Hugging Face cache, or from the Hub by name ("gpt2", "gpt2-medium",
// "gpt2-large", "gpt2-xl", "distilgpt2", or any "org/name"), in that order.
// Weights may be float32, float16 or bfloat16; they are converted to float32.
// It returns an error naming what is missing when the model is nowhere to be
// found (and how to supply it), or what is wrong with a checkpoint: a bad
// config, missing, extra or misshapen tensors, a corrupt safetensors file.
func Load(nameOrPath string) (*Model, error) {
	return LoadWith(nameOrPath, LoadOptions{})
}

// LoadWith is Load with options.
func LoadWith(nameOrPath string, opt LoadOptions) (*Model, error) {
	if nameOrPath == "" {
		return nil, errors.New("gpt2: load: empty model name; give a folder, a Hugging Face cache name or a Hub name such as \"gpt2\"")
	}
	dir, err := hub.Resolve(nameOrPath, opt.Hub)
	if err != nil {
		return nil, fmt.Errorf("gpt2: load %s: %w", nameOrPath, err)
	}
	return LoadDir(dir, opt.Options)
}

// LoadDir loads a checkpoint from a folder holding config.json,
// model.safetensors and, optionally, the tokenizer files (vocab.json and
// merges.txt, or tokenizer.json). Without tokenizer files it uses GPT-2's.
//
// Nothing is allocated from untrusted sizes: config.json (a regular file of
// at most MaxConfigBytes) is validated against the Max* limits first, then
// the name, shape and dtype of every tensor in model.safetensors (whose
// header is checked against the file's size) are compared with the shapes
// the config implies, and only then are the weights allocated and read.
// Every file must be a regular file or a link to one: a directory, named
// pipe or device (such as a link to /dev/zero) gives an error, never a
// hang. Errors name the file, the field or tensor, the value and what was
// expected.
func LoadDir(dir string, opt Options) (*Model, error) {
	cfg, err := ReadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	wpath := filepath.Join(dir, "model.safetensors")
	f, err := safetensors.Open(wpath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("gpt2: load %s: no model.safetensors (govene reads safetensors weights; convert a pytorch_model.bin with transformers' save_pretrained(safe_serialization=True))", dir)
		}
		return nil, fmt.Errorf("gpt2: load %s: %w", dir, err)
	}
	defer f.Close()
	// Every name, shape and dtype is checked against the config before
	// anything is allocated from it: the file's header was itself checked
	// against the file's size, so nothing larger than the file is allocated.
	names, err := checkTensors(cfg, f)
	if err != nil {
		return nil, fmt.Errorf("gpt2: load %s: %w", wpath, err)
	}
	if opt.Tokenizer == nil {
		if tok, err := bpe.Load(dir); err == nil {
			opt.Tokenizer = tok
		} else if hasTokenizerFiles(dir) {
			return nil, fmt.Errorf("gpt2: load %s: %w", dir, err)
		}
	}
	if opt.Tokenizer != nil && opt.Tokenizer.VocabSize() > cfg.VocabSize {
		return nil, fmt.Errorf("gpt2: load %s: the tokenizer has %d tokens but vocab_size is %d", dir, opt.Tokenizer.VocabSize(), cfg.VocabSize)
	}
	return newModel(cfg, opt, dir, func(name string, shape []int, dst []float32) error {
		if _, err := f.Float32Into(names[name], dst); err != nil {
			return fmt.Errorf("gpt2: load %s: %w", wpath, err)
		}
		f.Release(names[name]) // keep the peak near one copy of the weights
		return nil
	})
}

func hasTokenizerFiles(dir string) bool {
	for _, n := range []string{"vocab.json", "merges.txt", "tokenizer.json"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// ignoredTensor matches tensors a GPT-2 checkpoint may carry that govene does
// not need: the tied lm_head and the attention-mask buffers older
// transformers versions saved.
var ignoredTensor = regexp.MustCompile(`^(lm_head\.weight|h\.\d+\.attn\.(bias|masked_bias))$`)

// checkTensors maps each parameter's HF name to its name in the file
// (which may carry a "transformer." prefix) and reports missing and
// unexpected tensors, then tensors whose shape differs from the one the
// config implies or whose dtype is not a float type.
func checkTensors(cfg Config, f *safetensors.File) (map[string]string, error) {
	where, err := checkpoint.Match{
		Want:   cfg.checkpointTensors(),
		Rename: func(n string, _ func(string) bool) string { return strings.TrimPrefix(n, "transformer.") },
		Skip:   ignoredTensor.MatchString,
		For:    fmt.Sprintf("n_layer=%d", cfg.NLayer),
		Hint:   fmt.Sprintf("is config.json's n_layer=%d right?", cfg.NLayer),
		Config: fmt.Sprintf("n_embd=%d, n_inner=%d, vocab_size=%d, n_positions=%d", cfg.NEmbd, cfg.Inner(), cfg.VocabSize, cfg.NPositions),
	}.Locate([]*safetensors.File{f})
	if err != nil {
		return nil, err
	}
	byName := make(map[string]string, len(where))
	for n, s := range where {
		byName[n] = s.Name
	}
	return byName, nil
}

// checkpointTensors lists the names and shapes of the parameters.
func (c Config) checkpointTensors() []checkpoint.Tensor {
	specs := c.paramSpecs()
	ts := make([]checkpoint.Tensor, len(specs))
	for i, s := range specs {
		ts[i] = checkpoint.Tensor{Name: s.name, Shape: s.shape}
	}
	return ts
}
