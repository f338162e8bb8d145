package tut

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/govene/govene/causal"
	"github.com/govene/govene/gemma2"
	"github.com/govene/govene/llama"
	"github.com/govene/govene/neox"
	"github.com/govene/govene/shipped"
)

// Checkpoint is a small checkpoint of random weights of one model family
// that the tutorials' tests run every tutorial on: Name says the family and
// what of it the checkpoint exercises; Dir is the folder (config.json,
// model.safetensors and GPT-2's tokenizer).
type Checkpoint struct {
	Name, Dir string
	// Reach is how many tokens back the last block's output at a position
	// can see through the sliding windows (0: every earlier token).
	Reach int
}

// gpt2Vocab is the vocabulary of GPT-2's tokenizer, which every checkpoint
// carries (vocab.json and merges.txt of the shipped model).
const gpt2Vocab = 50257

// gpt2EOS is <|endoftext|>, GPT-2's BOS and EOS.
const gpt2EOS = 50256

// checkpoint is how one family's random checkpoint is made: its name, its
// Reach and the model.
type checkpoint struct {
	name  string
	reach int
	build func(seed uint64) (*causal.Model, error)
}

// slidingWindow is the mistral and gemma2 checkpoints' window (keys per
// query, the query's own included): shorter than every tutorial's prompts.
// Gemma 2's second layer is global, so its reach is unlimited.
const slidingWindow = 4

// checkpoints lists the families' checkpoints: 2 layers, d=32, GPT-2's
// vocabulary, each exercising what sets its family apart.
var checkpoints = []checkpoint{
	{name: "gpt_neox parallel residual", build: func(seed uint64) (*causal.Model, error) {
		c := neox.DefaultConfig()
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads = gpt2Vocab, 32, 64, 2, 4
		c.UseParallelResidual, c.RotaryPct = true, 0.5
		c.BOSTokenID, c.EOSTokenID = gpt2EOS, gpt2EOS
		return neox.Random(c, seed, causal.Options{})
	}},
	{name: "llama grouped-query attention, llama3 rope", build: func(seed uint64) (*causal.Model, error) {
		c := small(llama.DefaultConfig("llama"))
		c.RopeScaling = &causal.RopeParameters{RopeType: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64}
		return llama.Random(c, seed, causal.Options{})
	}},
	{name: "mistral sliding window", reach: 2 * (slidingWindow - 1), build: func(seed uint64) (*causal.Model, error) {
		c := small(llama.DefaultConfig("mistral"))
		w := slidingWindow
		c.SlidingWindow = &w
		return llama.Random(c, seed, causal.Options{})
	}},
	{name: "qwen2 tied embeddings", build: func(seed uint64) (*causal.Model, error) {
		c := small(llama.DefaultConfig("qwen2"))
		c.TieWordEmbeddings = true
		return llama.Random(c, seed, causal.Options{})
	}},
	{name: "gemma2 soft-caps, alternating windows", build: func(seed uint64) (*causal.Model, error) {
		c := gemma2.DefaultConfig()
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers = gpt2Vocab, 32, 64, 2
		c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.QueryPreAttnScalar = 4, 2, 8, 8
		c.SlidingWindow = slidingWindow
		// Caps low enough that random weights reach them.
		attn, final := 2.0, 5.0
		c.AttnLogitSoftcapping, c.FinalLogitSoftcapping = &attn, &final
		c.BOSTokenID, c.EOSTokenID, c.PadTokenID = gpt2EOS, gpt2EOS, gpt2EOS
		return gemma2.Random(c, seed, causal.Options{})
	}},
}

// small shrinks a Llama, Mistral or Qwen2 config to 2 layers, d=32 and 4
// query heads sharing 2 key-value heads, with GPT-2's vocabulary.
func small(c llama.Config) llama.Config {
	c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers = gpt2Vocab, 32, 64, 2
	c.NumAttentionHeads, c.NumKeyValueHeads, c.MaxPositionEmbeddings = 4, 2, 256
	c.BOSTokenID, c.EOSTokenID = gpt2EOS, gpt2EOS
	return c
}

// WriteCheckpoints writes one small random checkpoint per model family
// (GPT-NeoX, Llama, Mistral, Qwen2, Gemma 2) into folders under dir, with
// GPT-2's tokenizer, and returns them. It returns an error naming the
// family when a model cannot be built or a file cannot be written.
func WriteCheckpoints(dir string) ([]Checkpoint, error) {
	var out []Checkpoint
	for i, c := range checkpoints {
		m, err := c.build(uint64(i + 1))
		if err != nil {
			return nil, fmt.Errorf("tutorials: random %s checkpoint: %w", c.name, err)
		}
		d := filepath.Join(dir, fmt.Sprintf("%d-%s", i, m.Family()))
		if err := m.Save(d); err != nil {
			return nil, fmt.Errorf("tutorials: random %s checkpoint: %w", c.name, err)
		}
		for _, f := range []string{"vocab.json", "merges.txt"} {
			b, err := fs.ReadFile(shipped.Files(), f)
			if err == nil {
				err = os.WriteFile(filepath.Join(d, f), b, 0o644)
			}
			if err != nil {
				return nil, fmt.Errorf("tutorials: random %s checkpoint: GPT-2's %s: %w", c.name, f, err)
			}
		}
		out = append(out, Checkpoint{Name: c.name, Dir: d, Reach: c.reach})
	}
	return out, nil
}
