package job

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/govene/govene/internal/atomicfs"
)

// Shard is a contiguous range of dataset rows [First, End) (rows are the
// non-blank lines of a JSONL file, or a Parquet file's rows, counted from
// 0) written to File, a name inside Spec.Out. Offset and Line locate row
// First in the dataset, so a worker reads its shard without scanning the
// rows before it.
type Shard struct {
	Index int    `json:"index"`
	First int    `json:"first"`
	End   int    `json:"end"`
	File  string `json:"file"`
	// Offset is the byte offset of row First's line in a JSONL dataset; 0
	// for Parquet (a worker finds row First's row group from the footer's
	// row counts and seeks to it there).
	Offset int64 `json:"offset"`
	// Line is the 0-based index of row First's line (blank lines counted)
	// in a JSONL dataset; in a Parquet dataset, First itself (the row
	// index).
	Line int `json:"line"`
	// RowsSHA256 is the sha256 (hex) of the shard's rows: each row's line,
	// trimmed of surrounding space (JSONL), or the row's JSON encoding with
	// every field of the row struct, null when absent (Parquet), followed
	// by a newline. A worker checks it, so one reading another copy of the
	// dataset that differs fails.
	RowsSHA256 string `json:"rows_sha256"`
}

// ShardInfo describes a finished shard; it is the content of the shard's
// JSON sidecar (File with .json in place of .safetensors).
type ShardInfo struct {
	Shard
	// SpecHash is the hash of the spec's output-defining fields.
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
	// Summary holds per-shard counts (iia: "correct", "total"; patch:
	// "changed", "total").
	Summary map[string]float64 `json:"summary,omitempty"`
}

// Plan is a validated spec with its dataset read once: the row count, the
// dataset's sha256 and the shards.
type Plan struct {
	// Spec is the spec with defaults filled in.
	Spec Spec `json:"spec"`
	// SpecHash is the hash of the spec's output-defining fields.
	SpecHash string `json:"spec_hash"`
	// DatasetSHA256 is the dataset file's sha256 (hex).
	DatasetSHA256 string `json:"dataset_sha256"`
	// Rows is the number of examples (non-blank lines, or Parquet rows).
	Rows int `json:"rows"`
	// Shards cover the rows in order, ShardSize rows each (the last may
	// have fewer).
	Shards []Shard `json:"shards"`
	// Targets is the number of targets every patch row gives (0: none).
	Targets int `json:"targets,omitempty"`
}

// Names of the files in Out besides the shards.
const (
	ManifestFile = "manifest.json"
	// JobFile records the plan of the job writing Out, written before the
	// first shard, so that a different job in the same Out is refused.
	JobFile = "job.json"
)

// ShardFile returns the name of shard i's file: shard-00000.safetensors.
func ShardFile(i int) string { return fmt.Sprintf("shard-%05d.safetensors", i) }

// sidecar returns the name of a shard file's sidecar.
func sidecar(file string) string {
	return file[:len(file)-len(filepath.Ext(file))] + ".json"
}

// NewPlan validates spec and reads its dataset once: it checks every row's
// fields for the kind, counts the rows, hashes the file and cuts the rows
// into shards. It returns an error for an invalid spec, a dataset that is
// not a regular file, a bad line (naming the file, the line number and the
// field) or Parquet row (naming the file, the row index and the column), a
// Parquet file that is corrupt, truncated or lacks a column the kind
// needs, patch rows with differing numbers of targets, or no rows.
func NewPlan(spec Spec) (*Plan, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	spec = spec.withDefaults()
	f, err := openDataset(spec.Dataset)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	p := &Plan{Spec: spec, SpecHash: spec.hash(), Targets: -1}
	if spec.Intervenable != "" {
		// The intervenable's content, not only its path, defines the outputs.
		sum, err := folderSHA256(spec.Intervenable)
		if err != nil {
			return nil, fmt.Errorf("job: spec intervenable %q: %w", spec.Intervenable, err)
		}
		both := sha256.Sum256([]byte(p.SpecHash + sum))
		p.SpecHash = hex.EncodeToString(both[:])
	}
	var rowsHash hash.Hash // of the current shard's rows
	endShard := func() {
		if rowsHash != nil {
			p.Shards[len(p.Shards)-1].RowsSHA256 = hex.EncodeToString(rowsHash.Sum(nil))
		}
	}
	err = eachRow(spec.Dataset, spec.Kind, f, h, 0, 0, func(r row, rec []byte, offset int64) error {
		if spec.Kind == Patch {
			if p.Targets < 0 {
				p.Targets = len(r.Targets)
			} else if len(r.Targets) != p.Targets {
				return fmt.Errorf("job: %s has %d targets, the rows before have %d; give every row the same number", r.at(spec.Dataset, "targets"), len(r.Targets), p.Targets)
			}
		}
		if p.Rows%spec.ShardSize == 0 {
			endShard()
			i := len(p.Shards)
			p.Shards = append(p.Shards, Shard{Index: i, First: p.Rows, File: ShardFile(i), Offset: offset, Line: r.line})
			rowsHash = sha256.New()
		}
		hashRow(rowsHash, rec)
		p.Rows++
		p.Shards[len(p.Shards)-1].End = p.Rows
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Targets = max(p.Targets, 0)
	endShard()
	if p.Rows == 0 {
		what := "no non-blank lines"
		if isParquet(spec.Dataset) {
			what = "no rows"
		}
		return nil, fmt.Errorf("job: dataset %s has no examples (%s)", spec.Dataset, what)
	}
	p.DatasetSHA256 = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// hashRow adds a row's record (eachRow's rec) to a shard's rows hash.
func hashRow(h hash.Hash, rec []byte) {
	h.Write(rec)
	h.Write([]byte{'\n'})
}

// Prepare creates Out and records the plan in Out/job.json, or, when Out
// already holds a job, checks that it is this one. It returns an error
// naming the differing field and both values for a different job (kind,
// model, backend, sizes, sites, positions, intervenable or the dataset's
// content), and an error naming the file for an unreadable job.json.
func (p *Plan) Prepare() error {
	out := p.Spec.Out
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("job: out: %w", err)
	}
	path := filepath.Join(out, JobFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := p.checkStrays(); err != nil {
			return err
		}
		data, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return fmt.Errorf("job: %s: %w", path, err)
		}
		if err := atomicfs.WriteFile(path, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("job: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("job: out: %w", err)
	}
	var old Plan
	if err := json.Unmarshal(data, &old); err != nil {
		return fmt.Errorf("job: %s: %w (remove it, or the whole folder, to start over)", path, err)
	}
	return p.sameJob(&old, path)
}

// checkStrays returns an error when Out, without job.json, holds a
// manifest or shard sidecars of another job (written by an older version
// or another tool): their shards would otherwise be silently replaced.
func (p *Plan) checkStrays() error {
	out := p.Spec.Out
	if data, err := os.ReadFile(filepath.Join(out, ManifestFile)); err == nil {
		var m Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("job: out %s: %s: %w (remove it, or the whole folder, to start over)", out, ManifestFile, err)
		}
		old := &Plan{Spec: m.Spec, SpecHash: m.SpecHash, DatasetSHA256: m.DatasetSHA256, Rows: m.Rows}
		if err := p.sameJob(old, filepath.Join(out, ManifestFile)); err != nil {
			return err
		}
	}
	sidecars, err := filepath.Glob(filepath.Join(out, "shard-*.json"))
	if err != nil {
		return fmt.Errorf("job: out %s: %w", out, err)
	}
	for _, path := range sidecars {
		var info ShardInfo
		data, err := os.ReadFile(path)
		if err != nil || json.Unmarshal(data, &info) != nil {
			continue // unreadable: its shard is recomputed
		}
		if info.SpecHash != p.SpecHash {
			return fmt.Errorf("job: out %s holds another job: its spec hash is %s (%s), this job's is %s; give another out folder, or remove it to start over", out, info.SpecHash, path, p.SpecHash)
		}
		if info.DatasetSHA256 != p.DatasetSHA256 {
			return fmt.Errorf("job: out %s holds another job: its dataset (sha256) is %s (%s), this job's is %s; give another out folder, or remove it to start over", out, info.DatasetSHA256, path, p.DatasetSHA256)
		}
	}
	return nil
}

// sameJob returns an error naming the first output-defining field in which
// old (read from path) differs from p.
func (p *Plan) sameJob(old *Plan, path string) error {
	a, b := old.Spec.withDefaults(), p.Spec
	fields := []struct {
		name     string
		was, now any
	}{
		{"kind", a.Kind, b.Kind},
		{"model", a.Model, b.Model},
		{"backend", a.Backend, b.Backend},
		{"shard_size", a.ShardSize, b.ShardSize},
		{"batch_size", a.BatchSize, b.BatchSize},
		{"sites", a.Sites, b.Sites},
		{"positions", a.Positions, b.Positions},
		{"intervenable", a.Intervenable, b.Intervenable},
		{"dataset (sha256)", old.DatasetSHA256, p.DatasetSHA256},
		{"dataset (rows)", old.Rows, p.Rows},
	}
	for _, f := range fields {
		if !reflect.DeepEqual(f.was, f.now) {
			return fmt.Errorf("job: out %s holds another job: its %s is %v (%s), this job's is %v; give another out folder, or remove it to start over",
				p.Spec.Out, f.name, show(f.was), path, show(f.now))
		}
	}
	if old.SpecHash != p.SpecHash {
		why := ""
		if p.Spec.Intervenable != "" {
			why = " (every field agrees: the files in intervenable " + p.Spec.Intervenable + " changed since)"
		}
		return fmt.Errorf("job: out %s holds another job: its spec hash is %s (%s), this job's is %s%s", p.Spec.Out, old.SpecHash, path, p.SpecHash, why)
	}
	return nil
}

// show formats a spec value for an error.
func show(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []string:
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprint(v)
}

// Verify reports whether sh is finished in p.Spec.Out: its sidecar exists
// and matches the plan (shard range, spec hash, dataset hash, rows) and the
// shard file's size and sha256 match the sidecar. It returns the sidecar's
// ShardInfo when it is; a missing, partial or mismatched file or sidecar
// gives false.
func (p *Plan) Verify(sh Shard) (ShardInfo, bool) {
	data, err := os.ReadFile(filepath.Join(p.Spec.Out, sidecar(sh.File)))
	if err != nil {
		return ShardInfo{}, false
	}
	var info ShardInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return ShardInfo{}, false
	}
	if info.Shard != sh || info.SpecHash != p.SpecHash || info.DatasetSHA256 != p.DatasetSHA256 || info.Rows != sh.End-sh.First {
		return ShardInfo{}, false
	}
	size, sum, err := fileSHA256(filepath.Join(p.Spec.Out, sh.File))
	if err != nil || size != info.Bytes || sum != info.SHA256 {
		return ShardInfo{}, false
	}
	return info, true
}

// fileSHA256 returns a file's size and hex sha256.
func fileSHA256(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Manifest describes a finished job: manifest.json in Out.
type Manifest struct {
	// Spec is the job's spec, defaults filled in.
	Spec Spec `json:"spec"`
	// SpecHash is the hash of the spec's output-defining fields.
	SpecHash string `json:"spec_hash"`
	// DatasetSHA256 is the dataset file's sha256 (hex).
	DatasetSHA256 string `json:"dataset_sha256"`
	// Rows is the number of examples.
	Rows int `json:"rows"`
	// Shards are the finished shards, by index.
	Shards []ShardInfo `json:"shards"`
	// Summary sums the shards' summaries and adds "iia" (correct/total)
	// for iia and "changed_fraction" for patch.
	Summary map[string]float64 `json:"summary,omitempty"`
}

// manifest builds the manifest of p from infos, checking that they are
// exactly p's shards.
func (p *Plan) manifest(infos []ShardInfo) (*Manifest, error) {
	infos = slices.Clone(infos)
	slices.SortFunc(infos, func(a, b ShardInfo) int { return a.Index - b.Index })
	if len(infos) != len(p.Shards) {
		return nil, fmt.Errorf("job: manifest: %d shard infos given, the plan has %d shards", len(infos), len(p.Shards))
	}
	m := &Manifest{Spec: p.Spec, SpecHash: p.SpecHash, DatasetSHA256: p.DatasetSHA256, Rows: p.Rows, Shards: infos}
	for i, info := range infos {
		if info.Shard != p.Shards[i] || info.SpecHash != p.SpecHash || info.DatasetSHA256 != p.DatasetSHA256 {
			return nil, fmt.Errorf("job: manifest: shard info %d (index %d, rows [%d, %d)) does not match the plan's shard %d (rows [%d, %d)) or its spec or dataset hash",
				i, info.Index, info.First, info.End, i, p.Shards[i].First, p.Shards[i].End)
		}
		for k, v := range info.Summary {
			if m.Summary == nil {
				m.Summary = map[string]float64{}
			}
			m.Summary[k] += v
		}
	}
	if t := m.Summary["total"]; t > 0 {
		switch p.Spec.Kind {
		case IIA:
			m.Summary["iia"] = m.Summary["correct"] / t
		case Patch:
			m.Summary["changed_fraction"] = m.Summary["changed"] / t
		}
	}
	return m, nil
}

// WriteManifest writes manifest.json into p.Spec.Out atomically, with the
// infos sorted by index. It returns an error, writing nothing, when infos
// are not exactly the plan's shards (each once, with the plan's hashes).
func (p *Plan) WriteManifest(infos []ShardInfo) error {
	_, err := p.writeManifest(infos)
	return err
}

// writeManifest is WriteManifest returning the manifest.
func (p *Plan) writeManifest(infos []ShardInfo) (*Manifest, error) {
	m, err := p.manifest(infos)
	if err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("job: manifest: %w", err)
	}
	if err := atomicfs.WriteFile(filepath.Join(p.Spec.Out, ManifestFile), append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("job: manifest: %w", err)
	}
	return m, nil
}

// ReadManifest reads dir/manifest.json. It returns an error naming the file
// when it is missing (the job has not finished) or malformed.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("job: read manifest: %w (a job writes it when every shard is done)", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("job: read manifest %s: %w", path, err)
	}
	return &m, nil
}

// folderSHA256 returns a sha256 over the names and the sha256s of the
// regular files directly in dir (sorted by name), the identity of a saved
// intervenable. It returns an error when dir is not a readable folder.
func folderSHA256(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		_, sum, err := fileSHA256(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", fmt.Errorf("%s: %w", e.Name(), err)
		}
		fmt.Fprintf(h, "%s\x00%s\n", e.Name(), sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
