package sae_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/sae"
)

// randomSAE returns an SAE with seeded random weights: roughly half of
// its features fire on typical residual values.
func randomSAE(arch string, d, n int, hook string, seed uint64) *sae.SAE {
	rng := rand.New(rand.NewPCG(seed, 7))
	v := func(k int, scale float64) []float32 {
		out := make([]float32, k)
		for i := range out {
			out[i] = float32(rng.NormFloat64() * scale)
		}
		return out
	}
	s := &sae.SAE{
		Config: sae.Config{Architecture: arch, DIn: d, DSAE: n, HookName: hook, ApplyBDecToInput: true,
			NormalizeActivations: sae.NormNone, Dtype: "float32", ModelName: "test"},
		WEnc: v(d*n, 1/math.Sqrt(float64(d))), BEnc: v(n, 0.1),
		WDec: v(n*d, 1/math.Sqrt(float64(n))), BDec: v(d, 0.1), Scale: 1,
	}
	switch arch {
	case sae.ArchTopK:
		s.K = max(1, n/4)
	case sae.ArchJumpReLU:
		s.Threshold = make([]float32, n)
		for i := range s.Threshold {
			s.Threshold[i] = float32(rng.Float64() * 0.3)
		}
	}
	return s
}

// loadModel loads a test checkpoint by its path from the repository root.
func loadModel(t testing.TB, parts ...string) models.Model {
	t.Helper()
	m, err := models.Load(filepath.Join(append([]string{".."}, parts...)...), models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testModels are the checkpoints the model tests run on: GPT-2 and a
// family (Llama, grouped-query attention, RMSNorm, rotary).
var testModels = []struct {
	name string
	path []string
}{
	{"gpt2-odd", []string{"gpt2", "testdata", "odd"}},
	{"llama", []string{"models", "testdata", "llama"}},
}

// prompts returns a few prompts of token ids below vocab, of unequal
// lengths (so batches are padded).
func prompts(vocab int) []lm.Prompt {
	mk := func(ids ...int) lm.Prompt {
		for i := range ids {
			ids[i] %= vocab
		}
		return lm.Prompt{IDs: ids}
	}
	return []lm.Prompt{mk(5, 17, 42, 99, 3, 8), mk(11, 250, 7), mk(1, 2, 3, 4, 5, 6, 7, 8, 9)}
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func mathFloat32bits(v float32) uint32 { return math.Float32bits(v) }
