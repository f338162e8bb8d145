package job

import "errors"

// Shard is a contiguous range of dataset rows [First, End) written to File
// (a name inside Spec.Out).
type Shard struct {
	Index int    `json:"index"`
	First int    `json:"first"`
	End   int    `json:"end"`
	File  string `json:"file"`
}

// ShardInfo describes a finished shard; it is the content of the shard's
// JSON sidecar.
type ShardInfo struct {
	Shard
	// SpecHash is the hash of the spec's result-defining fields.
	SpecHash string `json:"spec_hash"`
	// DatasetSHA256 is the dataset file's sha256 (hex).
	DatasetSHA256 string `json:"dataset_sha256"`
	// Rows is End-First.
	Rows int `json:"rows"`
	// Bytes is the shard file's size.
	Bytes int64 `json:"bytes"`
	// SHA256 is the shard file's sha256 (hex).
	SHA256 string `json:"sha256"`
	// Tensors maps each tensor name in the shard to its shape.
	Tensors map[string][]int `json:"tensors"`
	// Summary holds per-shard counts (iia: "correct", "total").
	Summary map[string]float64 `json:"summary,omitempty"`
}

// Plan is a validated spec with its dataset read once: the row count, the
// dataset's sha256 and the shards.
type Plan struct {
	Spec          Spec
	SpecHash      string
	DatasetSHA256 string
	Rows          int
	Shards        []Shard
}

// NewPlan validates spec and reads its dataset once (counting rows and
// hashing it). It returns an error for an invalid spec, or naming the file
// and line for an unreadable or malformed dataset.
func NewPlan(spec Spec) (*Plan, error) { return nil, errors.New("job: not yet") }

// Verify reports whether sh is finished in p.Spec.Out: its sidecar exists
// and matches the plan (spec hash, dataset hash, rows) and the shard file's
// size and sha256 match the sidecar. It returns the sidecar's ShardInfo
// when it is.
func (p *Plan) Verify(sh Shard) (ShardInfo, bool) { return ShardInfo{}, false }

// WriteManifest writes manifest.json into p.Spec.Out atomically, with the
// infos sorted by index. It returns an error when infos do not cover every
// shard of the plan exactly once.
func (p *Plan) WriteManifest(infos []ShardInfo) error { return errors.New("job: not yet") }
