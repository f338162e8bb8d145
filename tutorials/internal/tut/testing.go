package tut

import (
	"testing"

	"github.com/govene/govene/gpt2"
)

// Run is the start of every tutorial's test: it points plots at a
// temporary folder, loads the tutorial model (the shipped one), runs the
// tutorial on it and returns both, stopping the test on an error.
func Run[R any](t testing.TB, run func(m *gpt2.Model) (R, error)) (*gpt2.Model, R) {
	t.Helper()
	t.Setenv("GOVENE_PLOTS_DIR", t.TempDir())
	m, err := Model("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := run(m)
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}
