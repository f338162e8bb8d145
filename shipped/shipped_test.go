package shipped

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/govene/govene/safetensors"
)

// Dir materializes the embedded checkpoint in the user cache folder, once,
// and writes nothing else.
func TestDir(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, filepath.Join(cache, "govene", "shipped-")) {
		t.Fatalf("Dir() = %s, want a folder under %s/govene", dir, cache)
	}
	var written []string
	err = filepath.WalkDir(cache, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			written = append(written, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	names, _ := fileNames()
	if !slices.Equal(written, names) {
		t.Errorf("cache holds %v, want exactly %v", written, names)
	}
	for _, n := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt", "TRAINING.md"} {
		if !slices.Contains(names, n) {
			t.Errorf("the embedded model lacks %s", n)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	// float16: 2 bytes a parameter, and a small repository.
	if n := DefaultModel().NumParams(); st.Size() > 2*int64(n)+1<<20 || st.Size() > 16<<20 {
		t.Errorf("model.safetensors is %d bytes, want at most 2 x %d parameters + 1 MiB and 16 MiB", st.Size(), n)
	}
	// Reused: a second call returns the same folder without rewriting it.
	before := st.ModTime()
	again, err := Dir()
	if err != nil || again != dir {
		t.Fatalf("second Dir() = %s, %v; want %s", again, err, dir)
	}
	if st2, _ := os.Stat(filepath.Join(dir, "model.safetensors")); !st2.ModTime().Equal(before) {
		t.Error("the second call rewrote the files")
	}
	// A damaged folder is replaced.
	if err := os.Remove(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	if again, err := Dir(); err != nil || again != dir || !complete(dir) {
		t.Errorf("Dir() after damage = %s, %v (complete: %v); want %s repaired", again, err, complete(dir), dir)
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "govene"))
	if len(entries) != 1 {
		t.Errorf("the cache holds %d entries, want only the model folder", len(entries))
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("Dir wrote %d entries in $HOME", len(entries))
	}
}

// The embedded weights are float16.
func TestWeightsAreF16(t *testing.T) {
	f, err := safetensors.Open(filepath.Join(shippedDir(t), "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, n := range f.Names() {
		if info, _ := f.Info(n); info.DType != safetensors.F16 {
			t.Errorf("%s is %s, want F16", n, info.DType)
		}
	}
	if want := 2 + 12*DefaultModel().NLayer + 2; len(f.Names()) != want {
		t.Errorf("%d tensors, want %d (%d layers)", len(f.Names()), want, DefaultModel().NLayer)
	}
}

var (
	loadErr   error
	cacheOnce sync.Once
	cacheDir  string
)

// shippedDir returns the checkpoint's folder, materialized once per test
// binary in a temporary cache.
func shippedDir(t *testing.T) string {
	t.Helper()
	cacheOnce.Do(func() {
		tmp, err := os.MkdirTemp("", "govene-shipped-test-*")
		if err != nil {
			loadErr = err
			return
		}
		old, had := os.LookupEnv("XDG_CACHE_HOME")
		os.Setenv("XDG_CACHE_HOME", tmp)
		cacheDir, loadErr = Dir()
		if had {
			os.Setenv("XDG_CACHE_HOME", old)
		} else {
			os.Unsetenv("XDG_CACHE_HOME")
		}
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return cacheDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cacheDir != "" {
		os.RemoveAll(filepath.Dir(filepath.Dir(cacheDir)))
	}
	os.Exit(code)
}
