package tut

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govene/govene/models"
	"github.com/govene/govene/plots"
)

func TestOutShowWritesIntoDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub") // created by Show
	var text bytes.Buffer
	o := Out{W: &text, Dir: dir}
	table := &plots.TextTable{Header: []string{"a"}, Rows: [][]string{{"x"}}}
	if err := o.Show(table, "t.html"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "t.html")
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "<table") {
		t.Errorf("%s: %v, %d bytes without a table", path, err, len(b))
	}
	if got, want := text.String(), "wrote "+path+"\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}

func TestOutShowErrors(t *testing.T) {
	table := &plots.TextTable{Header: []string{"a"}}
	abs := filepath.Join(t.TempDir(), "t.html")
	for _, c := range []struct {
		name string
		out  Out
		file string
		want string
	}{
		{"no folder", Out{}, "t.html", `tutorial: writing "t.html": Out.Dir is empty`},
		{"empty name", Out{Dir: "d"}, "", `tutorial: file name "": want a name relative to d`},
		{"absolute name", Out{Dir: "d"}, abs, `tutorial: file name "` + abs + `": want a name relative to d`},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.out.W = &bytes.Buffer{}
			if err := c.out.Show(table, c.file); err == nil || err.Error() != c.want {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// DefaultDir is out/<tutorial> in the checkout from any folder inside it,
// and a folder under the temporary folder from anywhere else (never the
// working directory).
func TestDefaultDir(t *testing.T) {
	root, err := filepath.Abs("../../..") // tutorials/internal/tut
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	for _, c := range []struct {
		name, cwd, want string
	}{
		{"checkout root", root, filepath.Join(root, "out", "das")},
		{"inside the checkout", filepath.Join(root, "tutorials", "das"), filepath.Join(root, "out", "das")},
		{"outside", outside, filepath.Join(os.TempDir(), "govene-tutorials", "das")},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(c.cwd)
			if got := DefaultDir("das"); got != c.want {
				t.Errorf("DefaultDir from %s = %s, want %s", c.cwd, got, c.want)
			}
		})
	}
	// Another module's checkout is not govene's.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(other)
	if got, want := DefaultDir("das"), filepath.Join(os.TempDir(), "govene-tutorials", "das"); got != want {
		t.Errorf("DefaultDir in another module = %s, want %s", got, want)
	}
}

func TestResultKeepsOnlyTheError(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		err  error
		want error
	}{{nil, nil}, {boom, boom}} {
		called := false
		run := Result(func(m models.Model, o Out) (int, error) {
			called = true
			return 42, c.err
		})
		if err := run(nil, Out{}); err != c.want || !called {
			t.Errorf("Result(run returning %v)() = %v, called %v; want %v, called", c.err, err, called, c.want)
		}
	}
}
