// Package job runs dataset-sized jobs over a JSONL file of examples with
// one model, in shards that are written atomically and verified on resume.
//
// # Datasets
//
// One JSON object per line; blank lines are skipped; a bad line is an error
// naming the file, the line number and the field. Fields by kind:
//
//   - collect: {"text": "..."} or {"ids": [int, ...]}; other fields ("id")
//     are ignored.
//   - patch: {"base": "...", "source": "...", "targets": [" Paris", ...]}
//     (targets optional, single tokens, the same number on every row).
//   - iia: {"base": "...", "sources": ["...", ...], "label": " Rome"} (one
//     source per source group of the intervenable, or one for all).
//
// Only JSONL is read; Parquet is not supported yet.
//
// # Outputs
//
// Out holds job.json (the plan, written first: a different job in the same
// Out is refused with an error naming the differing field), one
// shard-NNNNN.safetensors per shard with its sidecar shard-NNNNN.json (a
// ShardInfo: rows, size, sha256, tensor shapes, summary) and, when every
// shard is done, manifest.json. Every shard has "row" int64 [rows], each
// example's 0-based line index in the dataset, and metadata kind,
// spec_hash, dataset_sha256, first and end. By kind:
//
//   - collect, positions "last": one float32 tensor per site, named as the
//     site ("blocks.3.block_output"), [rows, d] or, for head sites, [rows,
//     heads, d]; positions "all": [tokens, d] or [tokens, heads, d] per site
//     and "offsets" int64 [rows+1] (row i's tokens are offsets[i] to
//     offsets[i+1]).
//   - patch: "original_top", "patched_top" int64 [rows] (the top next
//     token without and with the interchange of the source's value at the
//     site, at the last positions) and, with targets, "original_logprob",
//     "patched_logprob" float32 [rows, targets]; summary changed, total.
//   - iia: "predicted", "label" int64 [rows], "correct" float32 [rows];
//     summary correct, total; the manifest adds iia = correct/total.
//
// # Resuming
//
// Shards are written with internal/atomicfs (temporary file, fsync,
// rename), the sidecar after the shard and the manifest last. A shard counts
// as finished only when its sidecar exists, matches the plan (range, spec
// hash, dataset sha256, rows) and the file's size and sha256 match it; so a
// truncated or altered file, a missing sidecar or a killed writer's
// temporary is recomputed, never taken for a finished shard. Outputs are
// deterministic for a spec (the same batches), so a resumed job writes the
// same bytes as an uninterrupted one.
//
// # API notes against SCALE.md
//
// The signatures are SCALE.md's. Additions: Shard.Offset and Shard.Line
// (where the shard's first row is in the dataset, so a worker seeks to it)
// and Shard.RowsSHA256 (a worker refuses a dataset copy that differs),
// Plan.SpecHash, Plan.Targets and Manifest.SpecHash, ShardInfo.SpecHash and
// ShardInfo.DatasetSHA256 (a sidecar says which job it belongs to),
// Plan.Prepare (creates Out and checks or writes job.json; Run calls it, a
// Beam driver should too), Worker.Close (finishes the progress bar), and
// ParseSite (accepts "block_output.3" as well as lm.ParseSite's names).
// Spec.Devices is validated but not yet passed to the model.
package job
