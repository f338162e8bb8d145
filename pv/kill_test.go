package pv

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/govene/govene/bpe"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/internal/atomicfs/killtest"
	"github.com/govene/govene/lm"
)

// killConfig has trainable weights (a low-rank rotation, and a Boundless
// rotation whose temperature is saved in config.json, so a config.json and
// weights of different saves are caught).
func killConfig() Config {
	return Config{Representations: []RepresentationConfig{
		{Layer: 1, InterventionType: LowRankRotatedSpace, LowRankDimension: 3},
		{Layer: 0, Component: lm.MLPOutput, InterventionType: BoundlessRotatedSpace},
	}}
}

// setVersion fills every weight with values derived from v and sets the
// temperature to v+1.
func setVersion(iv *Model, v int) error {
	d := iv.model.Dims()
	for i, r := range iv.cfg.Representations {
		for _, spec := range weightSpecs(r, unitWidthOf(d, r)) {
			size := 1
			for _, n := range spec.shape {
				size *= n
			}
			vals := make([]float32, size)
			for k := range vals {
				vals[k] = versionValue(v, i, k)
			}
			if err := iv.SetWeight(iv.keys[i], spec.name, vals); err != nil {
				return err
			}
		}
	}
	// Temperatures must be positive: version v is saved as temperature v+1.
	return iv.SetTemperature(float64(v + 1))
}

func versionValue(v, i, k int) float32 { return float32(v) + float32(i)*0.25 + float32(k)*1e-3 }

// checkVersion returns the version a loaded model holds, or an error when
// its weights and temperature are not all of one version.
func checkVersion(iv *Model) (int, error) {
	v := int(math.Round(iv.temps[1])) - 1
	d := iv.model.Dims()
	for i, r := range iv.cfg.Representations {
		for _, spec := range weightSpecs(r, unitWidthOf(d, r)) {
			vals, _, err := iv.Weight(iv.keys[i], spec.name)
			if err != nil {
				return 0, err
			}
			for k, x := range vals {
				if x != versionValue(v, i, k) {
					return 0, fmt.Errorf("%s/%s[%d] = %g, want %g (temperature says version %d)", iv.keys[i], spec.name, k, x, versionValue(v, i, k), v)
				}
			}
		}
	}
	return v, nil
}

// TestKillSave kills processes running pv Save in a loop (a real
// IntervenableModel on the tiny GPT-2, new weights each save) with SIGKILL
// at random instants, 200 times, every 4th with the window between Save's
// two renames widened to 20 ms and the kill inside it. After each kill
// pv.Load must give the last save the process reported or the one it was
// writing, whole, and leave no temporaries.
func TestKillSave(t *testing.T) {
	var iv *Model
	setup := func() error {
		// The tiny test model, with a two-token tokenizer: loading GPT-2's
		// (most of a child's start-up) is not needed to save interventions.
		tmp, err := os.MkdirTemp("", "govene-kill-tok-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		vocab, merges := filepath.Join(tmp, "vocab.json"), filepath.Join(tmp, "merges.txt")
		if err := os.WriteFile(vocab, []byte(`{"a":0,"b":1}`), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(merges, nil, 0o644); err != nil {
			return err
		}
		tok, err := bpe.LoadFiles(vocab, merges)
		if err != nil {
			return err
		}
		m, err := gpt2.Random(tinyConfig(), 11, gpt2.Options{Tokenizer: tok})
		if err != nil {
			return err
		}
		iv, err = New(m, killConfig())
		return err
	}
	save := func(dir string, v int) error {
		if err := setVersion(iv, v); err != nil {
			return err
		}
		return iv.Save(dir)
	}
	if killtest.Child(setup, save) {
		return
	}
	m := tiny(t)
	var err error
	if iv, err = New(m, killConfig()); err != nil {
		t.Fatal(err)
	}
	res := killtest.Run(t, killtest.Config{
		Test: "TestKillSave", Kills: 200, WidenEvery: 4, MaxDelay: 30 * time.Millisecond,
		// Saving does not compute: the children use the pure-Go backend,
		// which starts at once, whatever backend the tests run on.
		Env: []string{"GOMLX_BACKEND=go"},
		Load: func(dir string) (int, error) {
			got, err := Load(dir, m)
			if err != nil {
				return 0, err
			}
			return checkVersion(got)
		},
		Save: save,
	})
	t.Log(res)
	if res.DirMissing < res.Widened/2 {
		t.Errorf("only %d of %d widened kills hit the window between the renames", res.DirMissing, res.Widened)
	}
}
