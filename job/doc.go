// Package job runs dataset-sized jobs over a JSONL or Parquet file of
// examples with one model, in shards that are written atomically and
// verified on resume.
//
// # Datasets
//
// A dataset whose name ends in ".parquet" (any case) is read as Parquet,
// anything else as JSONL. JSONL: one JSON object per line; blank lines are
// skipped; a bad line is an error naming the file, the line number and the
// field. Fields by kind:
//
//   - collect: {"text": "..."} or {"ids": [int, ...]}; other fields ("id")
//     are ignored.
//   - patch: {"base": "...", "source": "...", "targets": [" Paris", ...]}
//     (targets optional, single tokens, the same number on every row).
//   - iia: {"base": "...", "sources": ["...", ...], "label": " Rome"} (one
//     source per source group of the intervenable, or one for all).
//
// Parquet (read with github.com/parquet-go/parquet-go, pure Go): the same
// fields as top-level columns: strings are BYTE_ARRAY (plain, STRING or
// ENUM; valid UTF-8), "ids" a list of INT32 or INT64 of any width and
// signedness, "targets" and "sources" lists of strings (the standard LIST
// layout or a legacy repeated column). Columns may be nullable (a null is a
// missing field); other columns are ignored. A missing required column is an
// error naming it and listing the file's columns; a column of another type
// is an error naming it, what it holds and what is wanted; a bad value is an
// error naming the file, the 0-based row index and the column ("job:
// data.parquet: row 12: column "ids": element 3 is null; want a list of
// integers"). A file that is not Parquet, is truncated or has a corrupt
// footer is refused before reading rows: the magic bytes, the footer's size
// (at most 64 MiB), every column chunk's extent (inside the file, at most
// 1 GiB) and the row counts are checked first, and a panic in the reader is
// returned as an error. Rows are numbered by their index in the file, so
// the "row" tensor holds row indices; a shard's Line is its first row's
// index and Offset is 0, and a worker skips the row groups before its shard
// unread and seeks within the first (SeekToRow). A shard's RowsSHA256
// covers its rows' JSON encodings, and the dataset's sha256 is the file's.
//
// # Outputs
//
// Out holds job.json (the plan, written first: a different job in the same
// Out is refused with an error naming the differing field), one
// shard-NNNNN.safetensors per shard with its sidecar shard-NNNNN.json (a
// ShardInfo: rows, size, sha256, tensor shapes, summary) and, when every
// shard is done, manifest.json. Every shard has "row" int64 [rows], each
// example's 0-based line index in the dataset (Parquet: its row index), and
// metadata kind, spec_hash, dataset_sha256, first and end. By kind:
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
package job
