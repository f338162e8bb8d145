package hub

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govene/govene/internal/fsx"
)

const (
	shard1 = "model-00001-of-00002.safetensors"
	shard2 = "model-00002-of-00002.safetensors"
)

// indexJSON is a model.safetensors.index.json whose weight_map puts one
// tensor in each shard named.
func indexJSON(shards ...string) []byte {
	var entries []string
	for i, s := range shards {
		entries = append(entries, fmt.Sprintf(`"layers.%d.weight": %q`, i, s))
	}
	return []byte(`{"metadata": {"total_size": 1}, "weight_map": {` + strings.Join(entries, ", ") + `}}`)
}

// shardedFiles is a checkpoint split the way google/gemma-2-2b is: config,
// index (a git file) and two LFS shards, the first over 1 MiB so that it
// gets a progress bar. index replaces the index's content when not nil;
// seed picks the shards' bytes (the fake CDN serves blobs by etag, so
// repositories that must not share a blob need different seeds).
func shardedFiles(index []byte, seed uint64) map[string]*fakeFile {
	if index == nil {
		index = indexJSON(shard1, shard2, shard2)
	}
	return map[string]*fakeFile{
		"config.json":                      {data: []byte(`{"model_type": "llama"}`)},
		"tokenizer.json":                   {data: []byte(`{"model": {}}`)},
		IndexFile:                          {data: index},
		"model-00001-of-00002.safetensors": {data: weights(3<<19, seed), lfs: true},
		"model-00002-of-00002.safetensors": {data: weights(1000, seed+1), lfs: true},
	}
}

// addRepo serves files as repository id.
func (f *fakeHub) addRepo(id string, files map[string]*fakeFile) {
	f.repos[id] = &fakeRepo{files: files}
	for _, ff := range files {
		if ff.lfs {
			f.blobs[ff.etag()] = ff
		}
	}
}

// TestResolveModelSharded downloads a sharded checkpoint, then resolves it
// from the cache offline, and checks a single-file model is resolved as
// Resolve does, without asking for an index.
func TestResolveModelSharded(t *testing.T) {
	isolateEnv(t)
	f := newFakeHub(t)
	f.addRepo("acme/sharded", shardedFiles(nil, 11))
	opt, progress := testOptions(t, f)
	dir, err := ResolveModel("acme/sharded", opt)
	if err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(opt.CacheDir, "models--acme--sharded")
	if want := filepath.Join(repoDir, "snapshots", fakeCommit); dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
	files := f.repos["acme/sharded"].files
	for name, ff := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(b, ff.data) {
			t.Errorf("%s: content differs (err %v)", name, err)
		}
	}
	// Python's loaders read .no_exist to skip model.safetensors offline.
	if _, err := os.Stat(filepath.Join(repoDir, ".no_exist", fakeCommit, WeightsFile)); err != nil {
		t.Errorf("no .no_exist marker for %s: %v", WeightsFile, err)
	}
	if p := progress.String(); !strings.Contains(p, "acme/sharded/"+shard1) {
		t.Errorf("progress output lacks the first shard's bar: %q", p)
	}

	dead := httptest.NewServer(nil)
	dead.Close()
	n := f.requests("")
	for _, o := range []Options{
		{CacheDir: opt.CacheDir, Offline: true},
		{CacheDir: opt.CacheDir, Offline: true, Revision: fakeCommit},
		{CacheDir: opt.CacheDir, Endpoint: dead.URL},
	} {
		if got, err := ResolveModel("acme/sharded", o); err != nil || got != dir {
			t.Errorf("cached, %+v: ResolveModel = %q, %v; want %q", o, got, err, dir)
		}
	}
	if f.requests("") != n {
		t.Errorf("a cached sharded model must be resolved without network access")
	}
	// Resolve keeps requiring model.safetensors.
	_, err = Resolve("acme/sharded", Options{CacheDir: opt.CacheDir, Offline: true})
	wantErr(t, err, ErrNotCached, "missing: model.safetensors")

	// A single-file model: no index asked for.
	if _, err := ResolveModel("gpt2", opt); err != nil {
		t.Fatal(err)
	}
	for _, l := range f.log {
		if strings.Contains(l, "gpt2") && strings.Contains(l, IndexFile) {
			t.Errorf("asked for the index of a single-file model: %s", l)
		}
	}

	// A cache missing one shard is completed online with one GET.
	os.Remove(filepath.Join(dir, shard2))
	os.Remove(filepath.Join(repoDir, "blobs", files[shard2].etag()))
	gets := f.requests("GET")
	if got, err := ResolveModel("acme/sharded", opt); err != nil || got != dir {
		t.Fatalf("completing a snapshot: %q, %v", got, err)
	}
	if got := f.requests("GET") - gets; got != 1 {
		t.Errorf("completing the missing shard made %d GETs, want 1", got)
	}
}

// TestResolveModelCached checks offline resolution of damaged sharded
// snapshots: a missing shard or index gives ErrNotCached naming it, an
// invalid index an error naming the index and what is wrong with it.
func TestResolveModelCached(t *testing.T) {
	isolateEnv(t)
	f := newFakeHub(t)
	f.addRepo("acme/sharded", shardedFiles(nil, 11))
	writeIndex := func(b []byte) func(dir string) error {
		return func(dir string) error {
			os.Remove(filepath.Join(dir, IndexFile))
			return os.WriteFile(filepath.Join(dir, IndexFile), b, 0o644)
		}
	}
	tests := []struct {
		name     string
		damage   func(dir string) error
		is       error
		contains []string
	}{
		{"shard link removed", func(dir string) error { return os.Remove(filepath.Join(dir, shard2)) },
			ErrNotCached, []string{"missing: " + shard2 + " (a shard named in " + IndexFile + ")"}},
		{"shard blob removed", func(dir string) error {
			return os.Remove(filepath.Join(dir, "..", "..", "blobs", f.repos["acme/sharded"].files[shard1].etag()))
		}, ErrNotCached, []string{"missing: " + shard1}},
		{"shard is a directory", func(dir string) error {
			os.Remove(filepath.Join(dir, shard1))
			return os.Mkdir(filepath.Join(dir, shard1), 0o755)
		}, ErrNotCached, []string{shard1 + " (a shard named in " + IndexFile + ") (a directory, not a regular file)"}},
		{"index removed", func(dir string) error { return os.Remove(filepath.Join(dir, IndexFile)) },
			ErrNotCached, []string{"missing: " + weightsEither}},
		{"index is a directory", func(dir string) error {
			os.Remove(filepath.Join(dir, IndexFile))
			return os.Mkdir(filepath.Join(dir, IndexFile), 0o755)
		}, ErrNotCached, []string{"missing: model.safetensors, " + IndexFile + " (a directory"}},
		{"index names ../evil", writeIndex(indexJSON(shard1, "../evil")), nil, []string{IndexFile, `shard "../evil"`, `without "/"`}},
		{"index names a subfolder", writeIndex(indexJSON("sub/x.safetensors")), nil, []string{`shard "sub/x.safetensors"`}},
		{"index names a .bin", writeIndex(indexJSON("pytorch_model.bin")), nil, []string{`shard "pytorch_model.bin"`, `ending in ".safetensors"`}},
		{"index too big", writeIndex(bytes.Repeat([]byte(" "), MaxIndexBytes+1)), fsx.ErrTooLarge, []string{IndexFile}},
		{"index not JSON", writeIndex([]byte(`{"weight_map": `)), nil, []string{IndexFile, "JSON"}},
		{"index without weight_map", writeIndex([]byte(`{}`)), nil, []string{IndexFile, "weight_map is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, _ := testOptions(t, f)
			dir, err := ResolveModel("acme/sharded", opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.damage(dir); err != nil {
				t.Fatal(err)
			}
			got, err := ResolveModel("acme/sharded", Options{CacheDir: opt.CacheDir, Offline: true})
			if got != "" {
				t.Errorf("dir = %q on error", got)
			}
			wantErr(t, err, tt.is, append(tt.contains, "acme/sharded")...)
			if tt.is == nil && errors.Is(err, ErrNotCached) {
				t.Errorf("an invalid cached index must not read as ErrNotCached")
			}
		})
	}
	// Nothing cached: the error says either form of the weights will do.
	_, err := ResolveModel("acme/sharded", Options{CacheDir: t.TempDir(), Offline: true})
	wantErr(t, err, ErrNotCached, "missing: config.json, "+weightsEither)
}

// TestResolveModelDownloadErrors covers bad sharded repositories on the
// Hub: nothing unverified may be linked in the snapshot, and no ref written.
func TestResolveModelDownloadErrors(t *testing.T) {
	isolateEnv(t)
	f := newFakeHub(t)
	corrupt := shardedFiles(nil, 21)
	corrupt[shard2].corrupt = true
	noShard := shardedFiles(nil, 31)
	delete(noShard, shard2)
	big := shardedFiles(bytes.Repeat([]byte(" "), MaxIndexBytes+1), 41)
	big[IndexFile].lfs = true
	f.addRepo("acme/corrupt-shard", corrupt)
	f.addRepo("acme/missing-shard", noShard)
	f.addRepo("acme/evil-index", shardedFiles(indexJSON("../evil"), 51))
	f.addRepo("acme/big-index", big)
	tests := []struct {
		repo     string
		is       error
		contains []string
		unlinked string // must not be in the snapshot
	}{
		{"acme/corrupt-shard", ErrIntegrity, []string{shard2, "sha256", corrupt[shard2].etag(), "a shard named in " + IndexFile}, shard2},
		{"acme/missing-shard", ErrNotFound, []string{shard2, "404", "a shard named in " + IndexFile}, shard2},
		{"acme/evil-index", nil, []string{IndexFile, `shard "../evil"`}, ""},
		{"acme/big-index", fsx.ErrTooLarge, []string{IndexFile, "nothing downloaded"}, IndexFile},
		{"acme/no-weights", ErrNotFound, []string{"neither model.safetensors nor " + IndexFile, "safe_serialization"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			opt, _ := testOptions(t, f)
			gets := f.requests("GET")
			dir, err := ResolveModel(tt.repo, opt)
			if dir != "" {
				t.Errorf("dir = %q on error", dir)
			}
			wantErr(t, err, tt.is, append(tt.contains, tt.repo)...)
			repoDir := filepath.Join(opt.CacheDir, RepoFolderName(tt.repo))
			for _, e := range cacheTree(t, opt.CacheDir) {
				if strings.Contains(e, ".incomplete") || strings.Contains(e, "refs/main") {
					t.Errorf("left behind: %s", e)
				}
			}
			if tt.unlinked != "" {
				if _, err := os.Lstat(filepath.Join(repoDir, "snapshots", fakeCommit, tt.unlinked)); err == nil {
					t.Errorf("%s linked in the snapshot", tt.unlinked)
				}
			}
			if tt.repo == "acme/big-index" && f.requests("GET") != gets+1 { // config.json only
				t.Errorf("the oversized index was downloaded (%d GETs)", f.requests("GET")-gets)
			}
		})
	}
}

// TestFetchSizeCapUnannounced checks the cap on an index whose size the
// server does not announce: the transfer stops one byte past the cap and
// nothing is kept.
func TestFetchSizeCapUnannounced(t *testing.T) {
	isolateEnv(t)
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK) // no Content-Length: chunked
		w.(http.Flusher).Flush()
		w.Write(make([]byte, 5000))
	}))
	defer cdn.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Repo-Commit", fakeCommit)
		w.Header().Set("X-Linked-Etag", `"opaque-etag"`) // not a digest: only the size can be checked
		w.Header().Set("Location", cdn.URL+"/blob")
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	s, err := Options{CacheDir: t.TempDir(), Endpoint: srv.URL, Progress: &bytes.Buffer{}}.settings()
	if err != nil {
		t.Fatal(err)
	}
	d := newDownloader("acme/x", s)
	blob := filepath.Join(d.repoDir, "blobs", "opaque-etag")
	for _, tt := range []struct {
		limit int64
		ok    bool
	}{{4999, false}, {5000, true}} {
		found, err := d.fetch(IndexFile, true, tt.limit)
		if tt.ok != (err == nil) || found != tt.ok {
			t.Errorf("limit %d: found %v, err %v; want ok=%v", tt.limit, found, err, tt.ok)
		}
		if !tt.ok && !errors.Is(err, fsx.ErrTooLarge) {
			t.Errorf("limit %d: %v does not wrap fsx.ErrTooLarge", tt.limit, err)
		}
		if _, err := os.Stat(blob); (err == nil) != tt.ok {
			t.Errorf("limit %d: blob kept = %v, want %v", tt.limit, err == nil, tt.ok)
		}
		entries, _ := os.ReadDir(filepath.Dir(blob))
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".incomplete") {
				t.Errorf("limit %d: left behind %s", tt.limit, e.Name())
			}
		}
	}
}
