package job

import "errors"

// Spec describes one job. It is a plain struct with JSON tags so that a job
// can be stored, compared and sent to workers; Validate checks it.
type Spec struct {
	// Kind is the job: "collect", "patch" or "iia".
	Kind string `json:"kind"`
	// Model is a models.Load name: a folder, a cache or Hub name; "" loads
	// the shipped model.
	Model string `json:"model"`
	// Backend names the backend (backend.Workload.Backend); "" picks one.
	Backend string `json:"backend,omitempty"`
	// Devices picks the backend's devices; nil means all of them.
	Devices []int `json:"devices,omitempty"`
	// Dataset is the JSONL file of examples.
	Dataset string `json:"dataset"`
	// Out is the output folder.
	Out string `json:"out"`
	// ShardSize is the number of examples per shard (0: 1024).
	ShardSize int `json:"shard_size"`
	// BatchSize is the number of examples per forward pass (0: 32).
	BatchSize int `json:"batch_size"`
	// Sites are the sites (lm.ParseSite names such as "block_output.3"):
	// collect reads them all, patch and a vanilla iia use exactly one.
	Sites []string `json:"sites,omitempty"`
	// Positions is what collect keeps: "last" (the default) or "all".
	Positions string `json:"positions,omitempty"`
	// Intervenable is a pv.Save folder evaluated by iia.
	Intervenable string `json:"intervenable,omitempty"`
}

// Validate returns nil for a usable spec, else an error naming the field,
// its value and the valid choices.
func (s Spec) Validate() error { return errors.New("job: not yet") }
