package sae_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/govene/govene/hub"
	"github.com/govene/govene/sae"
)

// TestLoadFromHubCache: "owner/repo/subfolder" and Options.Subfolder read
// an SAE from a snapshot of the Hugging Face cache, offline; a folder the
// cache lacks is hub's not-cached error naming the files.
func TestLoadFromHubCache(t *testing.T) {
	cache := t.TempDir()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	repo := filepath.Join(cache, hub.RepoFolderName("someone/saes"))
	if err := os.MkdirAll(filepath.Join(repo, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
	src := randomSAE(sae.ArchJumpReLU, 4, 6, "blocks.2.hook_resid_post", 3)
	if err := src.Save(filepath.Join(repo, "snapshots", commit, "layer_2", "width_6")); err != nil {
		t.Fatal(err)
	}
	opt := sae.Options{Hub: hub.Options{CacheDir: cache, Offline: true}}
	for _, tc := range []struct {
		name, sub string
	}{{"someone/saes/layer_2/width_6", ""}, {"someone/saes", "layer_2/width_6"}, {"someone/saes/layer_2", "width_6"}} {
		o := opt
		o.Subfolder = tc.sub
		got, err := sae.Load(tc.name, o)
		if err != nil {
			t.Errorf("%s + %q: %v", tc.name, tc.sub, err)
			continue
		}
		if !slices.Equal(got.Threshold, src.Threshold) || got.HookName != src.HookName {
			t.Errorf("%s + %q: loaded a different SAE", tc.name, tc.sub)
		}
	}
	_, err := sae.Load("someone/saes/layer_3", opt)
	if err == nil || !errors.Is(err, hub.ErrNotCached) || !strings.Contains(err.Error(), "layer_3/cfg.json") {
		t.Errorf("missing subfolder: error %v, want hub.ErrNotCached naming layer_3/cfg.json", err)
	}
}
