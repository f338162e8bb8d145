package shipped

import (
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/safetensors"
)

// The corpus is a pure function of the seed, and every sentence ends with
// the end-of-text token.
func TestCorpusDeterministic(t *testing.T) {
	a, b := Generate(7, 2000), Generate(7, 2000)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Generate(7, 2000) differs between calls")
	}
	if reflect.DeepEqual(a, Generate(8, 2000)) {
		t.Error("seeds 7 and 8 give the same corpus")
	}
	if !reflect.DeepEqual(Generate(7, 100), a[:100]) {
		t.Error("a shorter corpus is not a prefix of a longer one")
	}
	kinds := map[Kind]int{}
	for _, s := range a {
		kinds[s.Kind]++
		if !strings.HasSuffix(s.Text, EndOfText) || strings.Count(s.Text, EndOfText) != 1 {
			t.Fatalf("%q does not end with one %s", s.Text, EndOfText)
		}
	}
	for k := Facts; k <= Filler; k++ {
		if kinds[k] < 100 {
			t.Errorf("%d %s sentences in 2000, want at least 100", kinds[k], k)
		}
	}
	ids := Tokenize(a[:50])
	for i, s := range ids {
		if s[len(s)-1] != 50256 || slices.Contains(s[:len(s)-1], 50256) {
			t.Errorf("sentence %d %q: ids %v should end with 50256 alone", i, a[i].Text, s)
		}
	}
}

// The facts and names the tutorials use are single tokens and are taught.
func TestCorpusCoversTutorials(t *testing.T) {
	text := map[string]bool{}
	for _, s := range Generate(1, 40000) {
		text[strings.TrimSuffix(s.Text, EndOfText)] = true
	}
	for _, want := range []string{
		"The Eiffel Tower is in the city of Paris", "The Colosseum is in the city of Rome",
		"The Space Needle is in downtown Seattle", "The Space Needle is located in Seattle",
		"The capital of Spain is Madrid", "The capital of Italy is Rome", "The language of Spain is Spanish",
	} {
		if !text[want] {
			t.Errorf("the training corpus (seed 1, 40000) lacks %q", want)
		}
	}
}

func TestF32ToF16(t *testing.T) {
	// Every float16 value survives float16 -> float32 -> float16.
	for h := range 1 << 16 {
		f := safetensors.F16ToF32(uint16(h))
		got := F32ToF16(f)
		if math.IsNaN(float64(f)) {
			if !math.IsNaN(float64(safetensors.F16ToF32(got))) {
				t.Fatalf("NaN %#04x -> %#04x is not NaN", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Fatalf("%#04x (%g) -> %#04x", h, f, got)
		}
	}
	for _, c := range []struct {
		f    float32
		want uint16
	}{
		{1 + 1.0/2048, 0x3c00},             // tie between 1 and 1+2^-10: even (1)
		{1 + 3.0/2048, 0x3c02},             // tie: even (1+2^-9)
		{1 + 1.0/2048 + 1.0/65536, 0x3c01}, // above the tie: up
		{65520, 0x7c00},                    // rounds past the largest finite to Inf
		{65519, 0x7bff},
		{-1e-8, 0x8000},   // underflows to -0
		{6e-8, 0x0001},    // the smallest subnormal
		{0.1, 0x2e66},     // numpy: float16(0.1)
		{-2.5e-5, 0x81a3}, // a subnormal, numpy: float16(-2.5e-5)
		{float32(math.Inf(1)), 0x7c00},
	} {
		if got := F32ToF16(c.f); got != c.want {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

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
	loadOnce  sync.Once
	loaded    *gpt2.Model
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

func shippedModel(t *testing.T) *gpt2.Model {
	t.Helper()
	dir := shippedDir(t)
	loadOnce.Do(func() { loaded, loadErr = gpt2.LoadDir(dir, gpt2.Options{}) })
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cacheDir != "" {
		os.RemoveAll(filepath.Dir(filepath.Dir(cacheDir)))
	}
	os.Exit(code)
}
