package tut

import (
	"bytes"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govene/govene/backend"
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
	r, dir := runOn(t, m, io.Discard, run)
	return m, r, dir
}

// runOn runs the tutorial on m with its text going to w and its files to a
// temporary folder, and returns the result and that folder, stopping the
// test on an error and failing it if the run created, changed or removed
// anything in the working directory.
func runOn[R any](t testing.TB, m models.Model, w io.Writer, run func(m models.Model, o Out) (R, error)) (R, string) {
	t.Helper()
	before := listing(t, ".")
	dir := t.TempDir()
	r, err := run(m, Out{W: w, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if after := listing(t, "."); !maps.Equal(before, after) {
		t.Errorf("the tutorial changed the working directory: before %v, after %v", keys(before), keys(after))
	}
	return r, dir
}

// Family is what OnFamilies gives a tutorial's check for one family: the
// checkpoint, the model loaded from it, the tutorial's result, the folder
// its files went to and the text it printed.
type Family[R any] struct {
	Checkpoint
	Model  models.Model
	Result R
	Dir    string
	Text   string
}

// OnFamilies runs the tutorial, as a subtest per family, on each of the
// small random checkpoints WriteCheckpoints writes (into a temporary
// folder), loaded by ModelFor from the folder as the -model flag loads it,
// and calls check with what it gave. It fails the subtest when the model
// does not load, the run fails, prints nothing or touches the working
// directory. It returns the checkpoints (for running the tutorial program
// on them).
func OnFamilies[R any](t *testing.T, run func(m models.Model, o Out) (R, error), check func(t *testing.T, f Family[R])) []Checkpoint {
	t.Helper()
	cps, err := WriteCheckpoints(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cps {
		t.Run(c.Name, func(t *testing.T) {
			m, err := ModelFor(c.Dir, backend.Workload{})
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			r, dir := runOn(t, m, &text, run)
			if !strings.Contains(text.String(), "model: "+m.String()) {
				t.Errorf("the tutorial's text does not name the model %q:\n%s", m, text.String())
			}
			check(t, Family[R]{Checkpoint: c, Model: m, Result: r, Dir: dir, Text: text.String()})
		})
	}
	return cps
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

// programEnv, set in a test binary's environment, makes TestMain run the
// tutorial's main instead of the tests (see Program).
const programEnv = "GOVENE_TUTORIAL_PROGRAM"

// TestMain is a tutorial test package's TestMain: in a process that
// Program started it runs the tutorial's main, which parses Program's
// arguments as the program's flags, and exits (main exits with 1 on an
// error); otherwise it runs the tests.
func TestMain(m *testing.M, main func()) {
	if os.Getenv(programEnv) != "" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Program runs the tutorial as a program with the command-line arguments
// args: the test binary again, which TestMain turns into the tutorial's
// main. It returns what the program printed (stdout, then stderr), failing
// the test when it does not exit with 0.
func Program(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), programEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("the tutorial program with %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
	return stdout.String() + stderr.String()
}
