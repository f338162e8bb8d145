package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/causal"
	"github.com/govene/govene/hub"
	"github.com/govene/govene/llama"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/safetensors"
)

// hubCommit is the commit the fake Hub says every file comes from.
const hubCommit = "89abcdef0123456789abcdef0123456789abcdef"

// serveHub answers /{repo}/resolve/main/{file} for files as the Hugging
// Face Hub answers for a small file (200, ETag the sha256 of the content,
// Content-Length, X-Repo-Commit), and 404 EntryNotFound for any other
// file. It returns the endpoint URL and a counter of the requests made.
func serveHub(t *testing.T, repo string, files map[string][]byte) (string, *atomic.Int64) {
	t.Helper()
	n := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("X-Repo-Commit", hubCommit)
		name, ok := strings.CutPrefix(r.URL.Path, "/"+repo+"/resolve/main/")
		data, found := files[name]
		if !ok || !found {
			w.Header().Set("X-Error-Code", "EntryNotFound")
			w.WriteHeader(http.StatusNotFound)
			return
		}
		sum := sha256.Sum256(data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		if r.Method == http.MethodGet {
			w.Write(data)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, n
}

// shardedCheckpoint returns the files of m saved as transformers saves a
// large model: config.json, two safetensors shards (the first half of the
// weights, then the rest) and model.safetensors.index.json naming them.
func shardedCheckpoint(t *testing.T, m *causal.Model) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"config.json": cfg}
	names, params := m.ParamNames(), m.Params()
	weightMap := map[string]string{}
	for k, part := range [][]int{{0, len(params) / 2}, {len(params) / 2, len(params)}} {
		shard := fmt.Sprintf("model-%05d-of-00002.safetensors", k+1)
		var ts []safetensors.Tensor
		for i := part[0]; i < part[1]; i++ {
			data, err := tensors.CopyFlatData[float32](params[i])
			if err != nil {
				t.Fatal(err)
			}
			ts = append(ts, safetensors.F32Tensor(names[i], params[i].Shape().Dimensions, data))
			weightMap[names[i]] = shard
		}
		var buf bytes.Buffer
		if err := safetensors.Encode(&buf, ts, nil); err != nil {
			t.Fatal(err)
		}
		files[shard] = buf.Bytes()
	}
	index, err := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": weightMap})
	if err != nil {
		t.Fatal(err)
	}
	files[hub.IndexFile] = index
	return files
}

// runLogits returns m's logits for one fixed prompt.
func runLogits(t *testing.T, m Model) []float32 {
	t.Helper()
	r, err := m.Run([]lm.Prompt{{IDs: []int{1, 5, 9, 2, 33}}})
	if err == nil {
		var v []float32
		if v, err = tensors.CopyFlatData[float32](r.Logits); err == nil {
			return v
		}
	}
	t.Fatal(err)
	return nil
}

// TestLoadShardedFromHub loads a tiny random Llama split in two shards
// from a fake Hub, then again from the cache offline, and checks the
// logits are the original model's; a shard missing from the cache offline
// gives hub.ErrNotCached naming it.
func TestLoadShardedFromHub(t *testing.T) {
	for _, v := range []string{"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HF_ENDPOINT"} {
		t.Setenv(v, "")
	}
	cfg := llama.DefaultConfig("llama")
	cfg.VocabSize, cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHiddenLayers = 64, 16, 24, 2
	cfg.NumAttentionHeads, cfg.NumKeyValueHeads, cfg.MaxPositionEmbeddings = 4, 2, 32
	orig, err := llama.Random(cfg, 5, causal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const repo = "acme/tiny-llama"
	endpoint, requests := serveHub(t, repo, shardedCheckpoint(t, orig))
	cache := t.TempDir()
	want := runLogits(t, orig)

	online := hub.Options{CacheDir: cache, Endpoint: endpoint, Progress: io.Discard}
	offline := hub.Options{CacheDir: cache, Offline: true}
	snapshot := filepath.Join(cache, hub.RepoFolderName(repo), "snapshots", hubCommit)
	for _, tt := range []struct {
		name string
		opt  hub.Options
	}{{"download", online}, {"offline from the cache", offline}} {
		t.Run(tt.name, func(t *testing.T) {
			before := requests.Load()
			m, err := Load(repo, Options{Hub: tt.opt})
			if err != nil {
				t.Fatal(err)
			}
			if m.Family() != "llama" || m.Dims().Layers != 2 || m.Source() != snapshot {
				t.Errorf("Load(%s) = %s (family %q, source %s); want the 2-layer llama from %s", repo, m, m.Family(), m.Source(), snapshot)
			}
			if got := runLogits(t, m); !slices.Equal(got, want) {
				t.Errorf("logits of the model loaded from the Hub differ from the original's")
			}
			if n := requests.Load() - before; tt.opt.Offline && n != 0 {
				t.Errorf("offline Load made %d requests", n)
			}
		})
	}

	if err := os.Remove(filepath.Join(snapshot, "model-00002-of-00002.safetensors")); err != nil {
		t.Fatal(err)
	}
	_, err = Load(repo, Options{Hub: offline})
	if !errors.Is(err, hub.ErrNotCached) || !strings.Contains(err.Error(), "model-00002-of-00002.safetensors") ||
		!strings.Contains(err.Error(), repo) {
		t.Errorf("Load with a shard missing from the cache, offline: %v; want hub.ErrNotCached naming %s and the shard", err, repo)
	}
}
