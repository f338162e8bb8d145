package hub

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/govene/govene/internal/fsx"
)

// WeightsFile holds the weights of a checkpoint stored in one file.
const WeightsFile = "model.safetensors"

// IndexFile holds the weight_map of a sharded checkpoint: which shard file
// holds each tensor. transformers writes it instead of WeightsFile when the
// weights are split, as for google/gemma-2-2b.
const IndexFile = "model.safetensors.index.json"

// MaxIndexBytes bounds IndexFile, downloaded or cached (16 MiB, as
// causal.MaxIndexBytes; real indexes are tens of KiB).
const MaxIndexBytes = 16 << 20

// MaxShards bounds the number of distinct shard files an index may name
// (the largest public checkpoints have a few hundred).
const MaxShards = 1024

// weightsEither names what a model needs when neither form of the weights
// is cached.
const weightsEither = WeightsFile + " (or " + IndexFile + " and the shards it names)"

// ResolveModel is Resolve for a model checkpoint whose weights may be
// sharded. When Options.Files (DefaultFiles when empty) names
// model.safetensors, that file may instead be model.safetensors.index.json
// plus the shards its weight_map names:
//
//   - in the cache, a snapshot holding the index and every shard it names
//     (regular files once links are followed) is complete without
//     model.safetensors;
//   - on the Hub, a 404 for model.safetensors means "try the index": the
//     index (at most MaxIndexBytes, refused before its download when the
//     Hub announces more) and then each shard are downloaded with the
//     guarantees of Download (etag and size verification, progress bars).
//
// A local directory is returned as Resolve returns it. Errors are
// Resolve's: ErrNotCached lists the missing shards by name, ErrIntegrity
// names a shard that does not match its etag, ErrNotFound says the
// repository has neither form of the weights. An index that is too large,
// is not JSON, has an empty weight_map, names more than MaxShards shards or
// a shard that is not a plain file name ending in ".safetensors" (no "/",
// "\" or "..") gives an error naming the index and the bad entry.
func ResolveModel(nameOrPath string, opt Options) (string, error) {
	return resolve(nameOrPath, opt, true)
}

// cachedModel is cachedSnapshot where a missing model.safetensors may be
// replaced by the index and its shards: missing then lists the shards the
// snapshot lacks, or the index. It returns an error for an index that is
// present but unreadable or invalid.
func cachedModel(cacheDir, repoID, revision string, files []string) (string, []string, error) {
	dir, missing, _ := cachedSnapshot(cacheDir, repoID, revision, files)
	i := slices.Index(missing, WeightsFile)
	if i < 0 {
		return dir, missing, nil
	}
	instead := []string{weightsEither}
	if dir != "" {
		if m := missingFiles(dir, []string{IndexFile}, ""); len(m) > 0 {
			if m[0] != IndexFile { // something that is not a regular file
				instead = []string{WeightsFile, m[0]}
			}
		} else {
			index := filepath.Join(dir, IndexFile)
			shards, err := readIndex(index)
			if err != nil {
				return "", nil, err
			}
			instead = missingFiles(dir, shards, " (a shard named in "+IndexFile+")")
		}
	}
	return dir, slices.Concat(missing[:i], instead, missing[i+1:]), nil
}

// downloadModel is download where a 404 for model.safetensors makes it
// fetch the index and the shards it names instead.
func downloadModel(repoID string, s settings) (string, error) {
	d := newDownloader(repoID, s)
	for _, file := range s.files {
		var err error
		if file == WeightsFile {
			err = d.fetchWeights()
		} else {
			_, err = d.fetch(file, required(file), 0)
		}
		if err != nil {
			return "", err
		}
	}
	return d.finish()
}

// fetchWeights fetches model.safetensors or, when the repository has none,
// the index and every shard it names.
func (d *downloader) fetchWeights() error {
	if found, err := d.fetch(WeightsFile, false, 0); err != nil || found {
		return err
	}
	found, err := d.fetch(IndexFile, false, MaxIndexBytes)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("hub: download %s: %w: the repository has neither %s nor %s at revision %q (govene reads safetensors weights; convert a pytorch_model.bin with transformers' save_pretrained(safe_serialization=True))",
			d.repoID, ErrNotFound, WeightsFile, IndexFile, d.s.revision)
	}
	shards, err := readIndex(d.pointerPath(d.commit, IndexFile))
	if err != nil {
		return fmt.Errorf("hub: download %s: %w", d.repoID, err)
	}
	for _, shard := range shards {
		if _, err := d.fetch(shard, true, 0); err != nil {
			return fmt.Errorf("%w (a shard named in %s)", err, IndexFile)
		}
	}
	return nil
}

// readIndex reads the index at path (a regular file of at most
// MaxIndexBytes) and returns the shard file names its weight_map names,
// sorted and without repeats. It returns an error naming path for a file
// that is too large or not JSON, an empty weight_map, more than MaxShards
// shards, or a shard that is not a plain file name ending in
// ".safetensors" (naming the tensor and the shard).
func readIndex(path string) ([]string, error) {
	data, err := fsx.ReadFile(path, IndexFile, MaxIndexBytes)
	if err != nil {
		return nil, err
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(index.WeightMap) == 0 {
		return nil, fmt.Errorf(`%s: weight_map is empty or missing; valid: {"weight_map": {"<tensor>": "<shard>.safetensors", ...}}`, path)
	}
	shards := map[string]bool{}
	for _, tensor := range slices.Sorted(maps.Keys(index.WeightMap)) {
		shard := index.WeightMap[tensor]
		if strings.ContainsAny(shard, "/\\\x00") || !strings.HasSuffix(shard, ".safetensors") || len(shard) > 255 {
			return nil, fmt.Errorf(`%s: tensor %q is in shard %q; valid: a file name next to the index ending in ".safetensors", without "/", "\" or ".."`,
				path, abbreviate(tensor), abbreviate(shard))
		}
		shards[shard] = true
	}
	if len(shards) > MaxShards {
		return nil, fmt.Errorf("%s: weight_map names %d shard files; at most %d are accepted", path, len(shards), MaxShards)
	}
	return slices.Sorted(maps.Keys(shards)), nil
}
