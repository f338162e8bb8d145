package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	ghfhub "github.com/gomlx/go-huggingface/hub"
	"github.com/govene/govene/hub"
)

var hubFileNames = []string{"config.json", "model.safetensors"}

// fetchFiles asks impl for hubFileNames from endpoint into cache and
// returns the local path of each; offline means "from the cache only"
// (govene's Resolve with Offline; go-huggingface has no such mode, so it
// gets the same call as online).
func fetchFiles(impl, cache, endpoint string, offline bool) (map[string]string, error) {
	paths := map[string]string{}
	switch impl {
	case "govene":
		opt := hub.Options{CacheDir: cache, Endpoint: endpoint, Files: hubFileNames, Progress: io.Discard, Offline: offline}
		var dir string
		var err error
		if offline {
			dir, err = hub.Resolve(localRepoID, opt)
		} else {
			dir, err = hub.Download(localRepoID, opt)
		}
		if err != nil {
			return nil, err
		}
		for _, f := range hubFileNames {
			paths[f] = filepath.Join(dir, f)
		}
	case "ghf":
		repo := ghfhub.New(localRepoID).WithCacheDir(cache).WithEndpoint(endpoint).WithProgressBar(false)
		repo.Verbosity = 0
		got, err := repo.DownloadFiles(hubFileNames...)
		if err != nil {
			return nil, err
		}
		for i, f := range hubFileNames {
			paths[f] = got[i]
		}
	default:
		return nil, fmt.Errorf("unknown impl %q", impl)
	}
	return paths, nil
}

// contentsOK says which returned paths do not hold the served bytes.
func contentsOK(paths map[string]string) error {
	var bad []string
	for name, want := range hubFiles() {
		got, err := os.ReadFile(paths[name])
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s unreadable (%v)", name, err))
		} else if !bytes.Equal(got, want) {
			bad = append(bad, fmt.Sprintf("%s differs (%d bytes, want %d)", name, len(got), len(want)))
		}
	}
	if bad != nil {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

const layoutOK = "blobs/, snapshots/ links and refs/main as huggingface_hub writes them"

// layout checks the huggingface_hub cache layout the download left.
func layout(cache string) string {
	repo := filepath.Join(cache, localFolder)
	var notes []string
	if ref, err := os.ReadFile(filepath.Join(repo, "refs", "main")); err != nil || string(ref) != localCommit {
		notes = append(notes, "no refs/main (Python offline mode cannot find the snapshot)")
	}
	link, err := os.Readlink(filepath.Join(repo, "snapshots", localCommit, "model.safetensors"))
	if err != nil || !strings.HasPrefix(link, "../../blobs/") {
		notes = append(notes, fmt.Sprintf("snapshot entry is not a ../../blobs link (%q)", link))
	}
	if notes == nil {
		return layoutOK
	}
	return strings.Join(notes, "; ")
}

// pythonCache lays out a cache as huggingface_hub leaves it, by hand.
func pythonCache(cache string) error {
	repo := filepath.Join(cache, localFolder)
	for _, d := range []string{"refs", "blobs", filepath.Join("snapshots", localCommit)} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(localCommit), 0o644); err != nil {
		return err
	}
	for name, data := range hubFiles() {
		blob := fmt.Sprintf("blob-%s", strings.ReplaceAll(name, ".", "-"))
		if err := os.WriteFile(filepath.Join(repo, "blobs", blob), data, 0o644); err != nil {
			return err
		}
		if err := os.Symlink("../../blobs/"+blob, filepath.Join(repo, "snapshots", localCommit, name)); err != nil {
			return err
		}
	}
	return nil
}

// childHub runs one Hub case with impl and prints its RESULT line. Kinds:
// ok (did the right thing), rejected (an error where one is right, or
// where none should be), accepted (no error, but wrong files).
func childHub(impl, name string) {
	cache, err := os.MkdirTemp("", "hfcompare-hub")
	if err != nil {
		report(err, "")
		return
	}
	defer os.RemoveAll(cache)
	const dead = "http://127.0.0.1:9" // nothing listens: no network
	switch name {
	case "download":
		h := newFakeHub("ok")
		defer h.Close()
		paths, err := fetchFiles(impl, cache, h.URL, false)
		if err == nil {
			err = contentsOK(paths)
		}
		if l := layout(cache); err == nil && l != layoutOK {
			fmt.Printf("RESULT partial files right, but %s\n", l)
			return
		}
		report(err, layoutOK)
	case "corrupt", "truncate":
		h := newFakeHub(name)
		defer h.Close()
		paths, err := fetchFiles(impl, cache, h.URL, false)
		if err != nil {
			report(err, "")
			return
		}
		if cerr := contentsOK(paths); cerr != nil {
			fmt.Printf("RESULT accepted returned no error; %s\n", oneLine(cerr.Error()))
			return
		}
		fmt.Println("RESULT accepted no error and correct bytes?")
	case "offline-after-download", "HF_HUB_OFFLINE":
		h := newFakeHub("ok")
		if _, err := fetchFiles(impl, cache, h.URL, false); err != nil {
			report(fmt.Errorf("first download: %w", err), "")
			return
		}
		endpoint := dead
		if name == "HF_HUB_OFFLINE" {
			endpoint = h.URL
			os.Setenv("HF_HUB_OFFLINE", "1")
		} else {
			h.Close()
		}
		before := h.requests.Load()
		paths, err := fetchFiles(impl, cache, endpoint, true)
		if err == nil {
			err = contentsOK(paths)
		}
		if n := h.requests.Load() - before; err == nil && n > 0 {
			fmt.Printf("RESULT accepted served from cache but made %d requests to the Hub\n", n)
			return
		}
		report(err, "served from the cache with no request")
	case "python-cache":
		if err := pythonCache(cache); err != nil {
			report(err, "")
			return
		}
		os.Setenv("HF_HUB_OFFLINE", "1")
		paths, err := fetchFiles(impl, cache, dead, true)
		if err == nil {
			err = contentsOK(paths)
		}
		report(err, "found Python's snapshot offline")
	default:
		report(fmt.Errorf("unknown hub case %q", name), "")
	}
}
