package tut

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/govene/govene/models"
)

// Run is the start of every tutorial's test: it loads the tutorial model
// (the shipped one), runs the tutorial on it with its files going to a
// temporary folder, and returns the model, the result and that folder,
// stopping the test on an error. It fails the test if the run created,
// changed or removed anything in the working directory.
func Run[R any](t testing.TB, run func(m models.Model, o Out) (R, error)) (models.Model, R, string) {
	t.Helper()
	m, err := Model("")
	if err != nil {
		t.Fatal(err)
	}
	before := listing(t, ".")
	dir := t.TempDir()
	r, err := run(m, Out{W: io.Discard, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if after := listing(t, "."); !maps.Equal(before, after) {
		t.Errorf("the tutorial changed the working directory: before %v, after %v", keys(before), keys(after))
	}
	return m, r, dir
}

// entry is what Run compares of a file: its size and modification time.
type entry struct {
	size int64
	mod  time.Time
}

// listing returns the entries of folder dir by name.
func listing(t testing.TB, dir string) map[string]entry {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]entry{}
	for _, e := range es {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = entry{info.Size(), info.ModTime()}
	}
	return out
}

func keys(m map[string]entry) []string { return slices.Sorted(maps.Keys(m)) }

// Wrote fails the test unless each named file is in dir and not empty.
func Wrote(t testing.TB, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		info, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Errorf("the tutorial did not write %s: %v", n, err)
		} else if info.Size() == 0 {
			t.Errorf("the tutorial wrote an empty %s", n)
		}
	}
}
