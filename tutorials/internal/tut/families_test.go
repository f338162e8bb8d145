package tut

import (
	"path/filepath"
	"testing"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/gemma2"
	"github.com/govene/govene/llama"
	"github.com/govene/govene/neox"
)

// Each random checkpoint loads as the family it names, with GPT-2's
// tokenizer, and its config.json has what the checkpoint is there to
// exercise.
func TestWriteCheckpoints(t *testing.T) {
	cps, err := WriteCheckpoints(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const tutorialPrompt = "The Eiffel Tower is in the city of" // the shortest
	want := []struct {
		family string
		reach  int
		check  func(path string) (bool, error)
	}{
		{"gpt_neox", 0, func(path string) (bool, error) {
			c, err := neox.ReadConfig(path)
			return c.UseParallelResidual, err
		}},
		{"llama", 0, func(path string) (bool, error) {
			c, err := llama.ReadConfig(path)
			r, _ := c.Rope()
			return c.KVHeads() < c.NumAttentionHeads && r.Scaling.Type == "llama3", err
		}},
		{"mistral", 6, func(path string) (bool, error) {
			c, err := llama.ReadConfig(path)
			return c.KVHeads() < c.NumAttentionHeads && c.Window(0) == slidingWindow && c.Window(1) == slidingWindow, err
		}},
		{"qwen2", 0, func(path string) (bool, error) {
			c, err := llama.ReadConfig(path)
			return c.TieWordEmbeddings, err
		}},
		{"gemma2", 0, func(path string) (bool, error) {
			c, err := gemma2.ReadConfig(path)
			caps := c.AttnLogitSoftcapping != nil && *c.AttnLogitSoftcapping > 0 && c.FinalLogitSoftcapping != nil && *c.FinalLogitSoftcapping > 0
			return caps && c.Window(0) == slidingWindow && c.Window(1) == 0, err
		}},
	}
	if len(cps) != len(want) {
		t.Fatalf("%d checkpoints, want %d", len(cps), len(want))
	}
	for i, c := range cps {
		w := want[i]
		t.Run(c.Name, func(t *testing.T) {
			m, err := ModelFor(c.Dir, backend.Workload{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Family() != w.family || m.Tokenizer().VocabSize() != gpt2Vocab || c.Reach != w.reach {
				t.Errorf("family %q, %d tokens, reach %d; want %q, GPT-2's %d, %d", m.Family(), m.Tokenizer().VocabSize(), c.Reach, w.family, gpt2Vocab, w.reach)
			}
			if d := m.Dims(); d.Layers != 2 || d.Hidden != 32 || d.Vocab != gpt2Vocab {
				t.Errorf("%d layers, d=%d, vocabulary %d; want 2, 32, %d", d.Layers, d.Hidden, d.Vocab, gpt2Vocab)
			}
			if ok, err := w.check(filepath.Join(c.Dir, "config.json")); err != nil || !ok {
				t.Errorf("config.json: %v; does not have what %q says", err, c.Name)
			}
			if n := m.Encode(tutorialPrompt).Len(); n <= slidingWindow {
				t.Errorf("%q is %d tokens; want it longer than the window %d", tutorialPrompt, n, slidingWindow)
			}
		})
	}
}
