package job

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/govene/govene/lm"
)

// Kinds of job.
const (
	Collect = "collect"
	Patch   = "patch"
	IIA     = "iia"
)

// Kinds lists the job kinds Spec.Kind accepts.
var Kinds = []string{Collect, Patch, IIA}

// Defaults of Spec's sizes.
const (
	DefaultShardSize = 1024
	DefaultBatchSize = 32
	// MaxBatchSize bounds Spec.BatchSize.
	MaxBatchSize = 4096
)

// Spec describes one job. It is a plain struct with JSON tags so that a job
// can be stored, compared and sent to workers; Validate checks it.
type Spec struct {
	// Kind is the job: "collect", "patch" or "iia".
	Kind string `json:"kind"`
	// Model is a models.Load name: a folder, a cache or Hub name; "" loads
	// the shipped model.
	Model string `json:"model"`
	// Backend names the backend (backend.Workload.Backend: "go", "xla",
	// "xla:cuda", ...); "" lets backend.For pick one.
	Backend string `json:"backend,omitempty"`
	// Devices picks the backend's devices by number (models.Options.Devices);
	// [-1] (lm.All) means every device; nil means the model's default: every device, except on a host CPU,
	// where it is device 0. Results depend on it only to float rounding (XLA
	// rounds by batch shape), so it is not part of the job's identity.
	Devices []int `json:"devices,omitempty"`
	// Dataset is the file of examples: Parquet when its name ends in
	// ".parquet", else JSONL.
	Dataset string `json:"dataset"`
	// Out is the output folder.
	Out string `json:"out"`
	// ShardSize is the number of examples per shard (0: 1024).
	ShardSize int `json:"shard_size"`
	// BatchSize is the number of examples per forward pass (0: 32).
	BatchSize int `json:"batch_size"`
	// Sites are lm.ParseSite names ("blocks.3.block_output"; the form
	// "block_output.3" is accepted too): collect reads them all, patch and
	// an iia without Intervenable use exactly one.
	Sites []string `json:"sites,omitempty"`
	// Positions is what collect keeps: "last" (the default) or "all".
	// patch and iia intervene at the last position only ("" or "last").
	Positions string `json:"positions,omitempty"`
	// Intervenable is a pv.Save folder used by iia (and patch) instead of a
	// vanilla interchange at Sites[0].
	Intervenable string `json:"intervenable,omitempty"`
}

// Positions choices.
const (
	Last = "last"
	All  = "all"
)

// withDefaults returns s with zero sizes and positions filled in.
func (s Spec) withDefaults() Spec {
	if s.ShardSize == 0 {
		s.ShardSize = DefaultShardSize
	}
	if s.BatchSize == 0 {
		s.BatchSize = DefaultBatchSize
	}
	if s.Positions == "" {
		s.Positions = Last
	}
	return s
}

// Validate returns nil for a usable spec, else an error naming the field,
// its value and the valid choices: an unknown kind, no dataset or out, a
// negative shard or batch size, a site that does not parse, the wrong
// number of sites for the kind, unknown positions, or negative or repeated
// devices. Whether the sites exist in the model is checked when the model is
// loaded (NewWorker).
func (s Spec) Validate() error {
	if !slices.Contains(Kinds, s.Kind) {
		return fmt.Errorf("job: spec kind %q: want one of %s", s.Kind, strings.Join(Kinds, ", "))
	}
	if s.Dataset == "" {
		return fmt.Errorf("job: spec dataset is empty: give the JSONL or Parquet file of examples")
	}
	if s.Out == "" {
		return fmt.Errorf("job: spec out is empty: give the output folder")
	}
	if s.ShardSize < 0 {
		return fmt.Errorf("job: spec shard_size %d: want a positive number of examples per shard (0: %d)", s.ShardSize, DefaultShardSize)
	}
	if s.BatchSize < 0 || s.BatchSize > MaxBatchSize {
		return fmt.Errorf("job: spec batch_size %d: want [1, %d] examples per forward pass (0: %d)", s.BatchSize, MaxBatchSize, DefaultBatchSize)
	}
	seen := map[int]bool{}
	for i, d := range s.Devices {
		if d == lm.All && len(s.Devices) == 1 {
			continue
		}
		if d < 0 {
			return fmt.Errorf("job: spec devices[%d] = %d: want a non-negative device number, or [%d] alone for every device", i, d, lm.All)
		}
		if seen[d] {
			return fmt.Errorf("job: spec devices %v: device %d is given twice", s.Devices, d)
		}
		seen[d] = true
	}
	sites, err := s.parseSites()
	if err != nil {
		return err
	}
	switch s.Kind {
	case Collect:
		if len(sites) == 0 {
			return fmt.Errorf("job: spec sites is empty: collect needs at least one site, such as blocks.3.block_output")
		}
		if s.Positions != "" && s.Positions != Last && s.Positions != All {
			return fmt.Errorf("job: spec positions %q: want %q or %q", s.Positions, Last, All)
		}
		if s.Intervenable != "" {
			return fmt.Errorf("job: spec intervenable %q: collect takes none (patch and iia do)", s.Intervenable)
		}
		for _, st := range sites {
			if st.Component == lm.AttentionWeight || st.Component == lm.AttentionScores {
				return fmt.Errorf("job: spec site %s: collect cannot store %s (its width depends on the prompt's length); collect another site", st, st.Component)
			}
		}
	case Patch, IIA:
		if s.Positions != "" && s.Positions != Last {
			return fmt.Errorf("job: spec positions %q: %s intervenes at the last position only; want %q or empty", s.Positions, s.Kind, Last)
		}
		if s.Intervenable == "" && len(sites) != 1 {
			return fmt.Errorf("job: spec sites %q: %s without an intervenable needs exactly one site, such as blocks.6.block_output", s.Sites, s.Kind)
		}
		if s.Intervenable != "" && len(sites) != 0 {
			return fmt.Errorf("job: spec sites %q with intervenable %q: give one or the other", s.Sites, s.Intervenable)
		}
	}
	return nil
}

// parseSites parses s.Sites with ParseSite.
func (s Spec) parseSites() ([]lm.Site, error) {
	var out []lm.Site
	for i, name := range s.Sites {
		st, err := ParseSite(name)
		if err != nil {
			return nil, fmt.Errorf("job: spec sites[%d]: %w", i, err)
		}
		if slices.Contains(out, st) {
			return nil, fmt.Errorf("job: spec sites[%d] %q: site %s is given twice", i, name, st)
		}
		out = append(out, st)
	}
	return out, nil
}

// ParseSite parses a site name as lm.ParseSite does ("blocks.3.block_output",
// "embed"), and also the form "block_output.3". It returns lm.ParseSite's
// error, naming the valid forms, for anything else.
func ParseSite(name string) (lm.Site, error) {
	st, err := lm.ParseSite(name)
	if err == nil {
		return st, nil
	}
	if i := strings.LastIndex(name, "."); i > 0 {
		if alt, err2 := lm.ParseSite("blocks." + name[i+1:] + "." + name[:i]); err2 == nil {
			return alt, nil
		}
	}
	return lm.Site{}, err
}

// hashed are the spec fields that define a job's outputs: everything but
// where the files are (Dataset's content is hashed separately) and the
// devices (results do not depend on them).
type hashed struct {
	Kind         string   `json:"kind"`
	Model        string   `json:"model"`
	Backend      string   `json:"backend"`
	ShardSize    int      `json:"shard_size"`
	BatchSize    int      `json:"batch_size"`
	Sites        []string `json:"sites"`
	Positions    string   `json:"positions"`
	Intervenable string   `json:"intervenable"`
}

// hash returns the hex sha256 of the output-defining fields of s (with
// defaults filled in and sites in their canonical spelling).
func (s Spec) hash() string {
	s = s.withDefaults()
	h := hashed{Kind: s.Kind, Model: s.Model, Backend: s.Backend, ShardSize: s.ShardSize,
		BatchSize: s.BatchSize, Positions: s.Positions, Intervenable: s.Intervenable}
	sites, _ := s.parseSites() // validated before
	for _, st := range sites {
		h.Sites = append(h.Sites, st.String())
	}
	data, _ := json.Marshal(h) // plain strings and ints: cannot fail
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
