// Package job runs dataset-sized jobs over a JSONL file of examples with
// one model: collect (activations at sites), patch (vanilla interchange of
// a source's activation into a base) and iia (interchange intervention
// accuracy of a saved intervenable or a vanilla site). A job is split into
// shards of Spec.ShardSize rows; each shard is computed by a Worker and
// written atomically to Out as a safetensors file plus a JSON sidecar; a
// manifest is written last. Run resumes an interrupted job: shards that
// Plan.Verify accepts are kept, the rest recomputed.
//
// Datasets are JSONL only (one JSON object per line, blank lines skipped);
// Parquet is not supported yet.
package job

// API notes against SCALE.md: the signatures are SCALE.md's. Additions:
// Plan.SpecHash and Manifest.SpecHash (the hash of the result-defining spec
// fields), and ShardInfo.SpecHash and ShardInfo.DatasetSHA256 (so that a
// sidecar alone says which job it belongs to).
