package pv

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/safetensors"
)

// savedConfig is what Save writes to config.json.
type savedConfig struct {
	Config
	// Model records the sizes of the model the interventions were made for.
	Model lm.Dims `json:"model"`
	// Temperatures of the weighted interventions, by key.
	Temperatures map[string]float64 `json:"temperatures,omitempty"`
	Format       string             `json:"format"`
}

const saveFormat = "govene-pv-1"

// Save writes the intervenable model's config (config.json) and its
// interventions' weights (interventions.safetensors, named KEY/WEIGHT) to
// dir, creating its parents when missing. It writes a new folder beside dir
// and swaps it in with a crash-safe protocol (internal/atomicfs): if Save
// fails or the process is killed at any instant, the earlier save (or, once
// complete, the new one) stays loadable by [Load]. Types added with
// Register are saved by name, with their weights. Go-function interventions
// cannot be saved: their representations are written without the function
// and must be given again after Load. Errors name dir.
func (iv *Model) Save(dir string) error {
	sc := savedConfig{Config: iv.cfg, Model: iv.model.Dims(), Temperatures: map[string]float64{}, Format: saveFormat}
	var ts []safetensors.Tensor
	iv.wmu.RLock()
	for i := range iv.cfg.Representations {
		if iv.weighted(i) {
			sc.Temperatures[iv.keys[i]] = iv.temps[i]
		}
		for j, spec := range iv.specs[i] {
			if iv.weights[i] == nil {
				break
			}
			v, err := copyF32(iv.weights[i][j])
			if err != nil {
				iv.wmu.RUnlock()
				return fmt.Errorf("pv: save %s: %w", dir, err)
			}
			ts = append(ts, safetensors.F32Tensor(iv.keys[i]+"/"+spec.name, spec.shape, v))
		}
	}
	iv.wmu.RUnlock()
	data, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return fmt.Errorf("pv: save %s: %w", dir, err)
	}
	err = atomicfs.ReplaceDir(dir, func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, "config.json"), append(data, '\n'), 0o644); err != nil {
			return err
		}
		return safetensors.Write(filepath.Join(tmp, "interventions.safetensors"), ts, map[string]string{"format": saveFormat})
	})
	if err != nil {
		return fmt.Errorf("pv: save %s: %w", dir, err)
	}
	return nil
}

// Load reads a model saved by Save and attaches it to m. It first finishes
// or rolls back a Save that was interrupted (atomicfs.Recover: a killed Save
// can leave dir missing for an instant, with the old and the new folder
// beside it) and removes the temporaries of killed saves. It returns an
// error when the files are missing or corrupt, when they were saved for a
// model of other sizes, when they name an intervention type not registered
// (register your own types with Register before Load), or when weights are
// missing or misshapen.
func Load(dir string, m lm.Model) (*Model, error) {
	if err := atomicfs.Recover(dir); err != nil {
		return nil, fmt.Errorf("pv: load %s: %w", dir, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("pv: load %s: %w", dir, err)
	}
	var sc savedConfig
	if err := json.Unmarshal(data, &sc); err != nil {
		return nil, fmt.Errorf("pv: load %s: config.json: %w", dir, err)
	}
	if sc.Format != saveFormat {
		return nil, fmt.Errorf("pv: load %s: config.json has format %q, want %q", dir, sc.Format, saveFormat)
	}
	if !sc.Model.Equal(m.Dims()) {
		return nil, fmt.Errorf("pv: load %s: saved for a model with %+v, but this model has %+v", dir, sc.Model, m.Dims())
	}
	for i, r := range sc.Representations {
		if _, ok := Lookup(r.InterventionType); r.Intervention == nil && r.InterventionType != "" && !ok {
			return nil, fmt.Errorf("pv: load %s: representations[%d].intervention_type: %q is not registered; register it with pv.Register before Load (registered: %v)", dir, i, r.InterventionType, Registered())
		}
	}
	iv, err := New(m, sc.Config)
	if err != nil {
		return nil, fmt.Errorf("pv: load %s: %w", dir, err)
	}
	f, err := safetensors.Open(filepath.Join(dir, "interventions.safetensors"))
	if err != nil {
		return nil, fmt.Errorf("pv: load %s: %w", dir, err)
	}
	defer f.Close()
	want := map[string]bool{}
	for i := range iv.cfg.Representations {
		if t, ok := sc.Temperatures[iv.keys[i]]; ok {
			iv.temps[i] = t
		}
		if iv.weights[i] == nil {
			continue
		}
		for _, spec := range iv.specs[i] {
			name := iv.keys[i] + "/" + spec.name
			want[name] = true
			v, shape, err := f.Float32(name)
			if err != nil {
				return nil, fmt.Errorf("pv: load %s: %w", dir, err)
			}
			if !equalInts(shape, spec.shape) {
				return nil, fmt.Errorf("pv: load %s: %s has shape %v, want %v", dir, name, shape, spec.shape)
			}
			if err := iv.SetWeight(iv.keys[i], spec.name, v); err != nil {
				return nil, fmt.Errorf("pv: load %s: %w", dir, err)
			}
		}
	}
	var extra []string
	for _, n := range f.Names() {
		if !want[n] {
			extra = append(extra, strconv.Quote(n))
		}
	}
	if len(extra) > 0 {
		return nil, fmt.Errorf("pv: load %s: unexpected weights %v (saved with another config?)", dir, extra)
	}
	return iv, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
