package atomicfs

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govene/govene/internal/fsx/fsxtest"
)

// names returns the entries of dir, sorted.
var names = fsxtest.Names

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// deadPid returns the pid of a process that has exited and been reaped.
func deadPid(t *testing.T) int {
	t.Helper()
	for range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		if !processAlive(cmd.Process.Pid) {
			return cmd.Process.Pid
		}
	}
	t.Fatal("no dead pid found: every exited child's pid was reused at once")
	return 0
}

func tagFor(host string, pid int) string {
	return host + "-" + strconv.Itoa(pid) + "-0123abcd"
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	if err := WriteFile(path, []byte("one"), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != "one" {
		t.Errorf("content %q, want %q", got, "one")
	}
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	// An existing file keeps its mode.
	if err := WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	if got := readString(t, path); got != "two" {
		t.Errorf("content %q, want %q", got, "two")
	}
	if n := names(t, dir); !slices.Equal(n, []string{"a.json"}) {
		t.Errorf("folder holds %q, want only a.json", n)
	}
}

func TestWriteFileFailures(t *testing.T) {
	disk := errors.New("simulated disk error")
	for _, tc := range []struct {
		name    string
		path    func(dir string) string
		write   func(w io.Writer) error
		hook    Hook
		wantErr string
	}{
		{name: "write func fails", write: func(w io.Writer) error {
			w.Write([]byte("partial"))
			return disk
		}, wantErr: "simulated disk error"},
		{name: "disk error mid-write", write: func(w io.Writer) error {
			for range 5 { // 5 MiB through a 1 MiB buffer: several flushes
				if _, err := w.Write(make([]byte, 1<<20)); err != nil {
					return err
				}
			}
			return nil
		}, hook: func() Hook {
			n := 0
			return func(s Step, p string) error {
				if s == StepWrite {
					if n++; n == 3 {
						return disk
					}
				}
				return nil
			}
		}(), wantErr: "write " + "PATH" + ": write"},
		{name: "failure before rename", hook: func(s Step, p string) error {
			if s == StepSynced {
				return disk
			}
			return nil
		}, wantErr: "synced"},
		{name: "target is a folder", path: func(dir string) string { return dir }, wantErr: "is a folder"},
		{name: "missing parent", path: func(dir string) string { return filepath.Join(dir, "no", "x") }, wantErr: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.bin")
			if err := os.WriteFile(path, []byte("good"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.path != nil {
				path = tc.path(dir)
			}
			write := tc.write
			if write == nil {
				write = func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }
			}
			defer SetTestHook(tc.hook)()
			err := WriteFileFunc(path, 0o644, write)
			want := strings.ReplaceAll(tc.wantErr, "PATH", path)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming %s and containing %q", err, path, want)
			}
			if got := readString(t, filepath.Join(dir, "f.bin")); got != "good" {
				t.Errorf("old file now holds %q, want %q", got, "good")
			}
			if n := names(t, dir); !slices.Equal(n, []string{"f.bin"}) {
				t.Errorf("folder holds %q, want only f.bin", n)
			}
		})
	}
}

func TestWriteFileRemovesStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	dead := deadPid(t)
	stale := ".f.bin" + marker + "tmp-" + tagFor(hostTag(), dead)
	liveProc := ".f.bin" + marker + "tmp-" + tagFor(hostTag(), os.Getppid())
	otherHost := ".f.bin" + marker + "tmp-" + tagFor("00000000", dead)
	oldOther := ".f.bin" + marker + "tmp-" + tagFor("11111111", dead)
	notOurs := ".f.bin.tmp-12345"
	for _, n := range []string{stale, liveProc, otherHost, oldOther, notOurs} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-StaleAge - time.Hour)
	if err := os.Chtimes(filepath.Join(dir, oldOther), past, past); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "f.bin"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{liveProc, otherHost, notOurs, "f.bin"}
	slices.Sort(want)
	if n := names(t, dir); !slices.Equal(n, want) {
		t.Errorf("folder holds %q, want %q (dead pid's and old temporaries removed)", n, want)
	}
}

func TestSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need developer mode on Windows")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "link")
	for _, target := range []string{"a", "b"} {
		if err := Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		if got, err := os.Readlink(p); err != nil || got != target {
			t.Errorf("link -> %q, %v; want %q", got, err, target)
		}
	}
	if n := names(t, dir); !slices.Equal(n, []string{"link"}) {
		t.Errorf("folder holds %q", n)
	}
	if err := Symlink("a", string(filepath.Separator)); err == nil || !strings.Contains(err.Error(), "names no file") {
		t.Errorf("symlink at ..: %v", err)
	}
}

// fillWith returns a fill writing one file v.txt holding v.
func fillWith(v string) func(string) error {
	return func(tmp string) error { return os.WriteFile(filepath.Join(tmp, "v.txt"), []byte(v), 0o644) }
}

func TestReplaceDir(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "p", "q")
	dir := filepath.Join(parent, "save")
	for _, v := range []string{"1", "2", "3"} {
		if err := ReplaceDir(dir, fillWith(v)); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, filepath.Join(dir, "v.txt")); got != v {
			t.Errorf("after save %s: v.txt = %q", v, got)
		}
		if n := names(t, parent); !slices.Equal(n, []string{"save"}) {
			t.Errorf("parent holds %q, want only save", n)
		}
	}
	if n := names(t, dir); !slices.Equal(n, []string{"v.txt"}) {
		t.Errorf("folder holds %q, want only v.txt (no marker files)", n)
	}
	if runtime.GOOS != "windows" {
		// A symlink to a folder is replaced by the new folder; its
		// target is left alone.
		target := filepath.Join(t.TempDir(), "target")
		if err := os.Mkdir(target, 0o755); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(parent, "link")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if err := ReplaceDir(link, fillWith("L")); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(link); err != nil || !st.IsDir() || readString(t, filepath.Join(link, "v.txt")) != "L" {
			t.Errorf("link after replace: %v, %v; want a folder holding v.txt = L", st, err)
		}
		if n := names(t, target); len(n) != 0 {
			t.Errorf("the link's target now holds %q", n)
		}
		os.RemoveAll(link)
	}
	f := filepath.Join(parent, "file")
	os.WriteFile(f, nil, 0o644)
	if err := ReplaceDir(f, fillWith("x")); err == nil || !strings.Contains(err.Error(), "not a folder") || !strings.Contains(err.Error(), f) {
		t.Errorf("replacing a file: %v", err)
	}
}

// TestReplaceDirFailureKeepsOld: a failure at any step (the fill, a disk
// error while writing, or any rename) leaves the old folder in place and no
// temporaries.
func TestReplaceDirFailureKeepsOld(t *testing.T) {
	disk := errors.New("simulated disk error")
	failAt := func(step Step) Hook {
		return func(s Step, p string) error {
			if s == step {
				return disk
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name    string
		fill    func(string) error
		hook    Hook
		wantErr string
	}{
		{name: "fill fails", fill: func(tmp string) error {
			os.WriteFile(filepath.Join(tmp, "v.txt"), []byte("half"), 0o644)
			return disk
		}, wantErr: "simulated disk error"},
		{name: "disk error mid-write", fill: func(tmp string) error {
			return WriteFile(filepath.Join(tmp, "v.txt"), []byte("new"), 0o644)
		}, hook: failAt(StepWrite), wantErr: "/v.txt: write "},
		{name: "after fill", hook: failAt(StepFilled), wantErr: "filled"},
		{name: "after ready", hook: failAt(StepReady), wantErr: "ready"},
		{name: "old moved aside", hook: failAt(StepOldAside), wantErr: "old-aside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "save")
			if err := ReplaceDir(dir, fillWith("old")); err != nil {
				t.Fatal(err)
			}
			fill := tc.fill
			if fill == nil {
				fill = fillWith("new")
			}
			restore := SetTestHook(tc.hook)
			err := ReplaceDir(dir, fill)
			restore()
			want := strings.ReplaceAll(tc.wantErr, "...", "")
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "simulated disk error") || !strings.Contains(err.Error(), dir) {
				t.Fatalf("err = %v, want one naming %s, containing %q and the disk error", err, dir, want)
			}
			if got := readString(t, filepath.Join(dir, "v.txt")); got != "old" {
				t.Errorf("v.txt = %q, want the old save", got)
			}
			if n := names(t, parent); !slices.Equal(n, []string{"save"}) {
				t.Errorf("parent holds %q, want only save", n)
			}
		})
	}
}

// TestRecover builds the states a killed ReplaceDir can leave (by a dead
// writer) and checks what Recover makes of them.
func TestRecover(t *testing.T) {
	dead := deadPid(t)
	tag := tagFor(hostTag(), dead)
	tag2 := host2(tag)
	live := tagFor(hostTag(), os.Getppid())
	other := tagFor("00000000", dead)
	n := func(kind, tag string) string { return ".save" + marker + kind + "-" + tag }
	for _, tc := range []struct {
		name     string
		dirV     string            // "" = no dir
		siblings map[string]string // name -> v.txt content ("" = half-removed, no v.txt)
		wantV    string            // "" = no dir after
		wantLeft []string
	}{
		{name: "killed while filling", dirV: "old", siblings: map[string]string{n("new", tag): ""}, wantV: "old"},
		{name: "killed after ready", dirV: "old", siblings: map[string]string{n("ready", tag): "new"}, wantV: "old"},
		{name: "killed between renames", siblings: map[string]string{n("old", tag): "old", n("ready", tag): "new"}, wantV: "new"},
		{name: "first save killed before install", siblings: map[string]string{n("ready", tag): "new"}, wantV: "new"},
		{name: "only old left", siblings: map[string]string{n("old", tag): "old"}, wantV: "old"},
		{name: "ready of the save that moved dir aside wins", siblings: map[string]string{
			n("old", tag): "old", n("ready", tag): "new", n("ready", tag2): "other"}, wantV: "new"},
		{name: "killed before old removed", dirV: "new", siblings: map[string]string{n("old", tag): "old"}, wantV: "new"},
		{name: "killed while removing old", dirV: "new", siblings: map[string]string{n("del", tag): ""}, wantV: "new"},
		{name: "file temporaries too", dirV: "old", siblings: map[string]string{n("tmp", tag): "x"}, wantV: "old"},
		{name: "live writer's temporaries kept", dirV: "old", siblings: map[string]string{n("new", live): "", n("ready", live): "new"},
			wantV: "old", wantLeft: []string{n("new", live), n("ready", live)}},
		{name: "other host's recent temporaries kept", dirV: "old", siblings: map[string]string{n("ready", other): "new"},
			wantV: "old", wantLeft: []string{n("ready", other)}},
		{name: "other names untouched", dirV: "old", siblings: map[string]string{".save.tmp123": "x", ".save.govene-new-xyz": "x", ".saved" + marker + "new-" + tag: "x"},
			wantV: "old", wantLeft: []string{".save.tmp123", ".save.govene-new-xyz", ".saved" + marker + "new-" + tag}},
		{name: "nothing to restore", wantV: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "save")
			mk := func(p, v string) {
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				if v != "" {
					if err := os.WriteFile(filepath.Join(p, "v.txt"), []byte(v), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tc.dirV != "" {
				mk(dir, tc.dirV)
			}
			for name, v := range tc.siblings {
				mk(filepath.Join(parent, name), v)
			}
			if err := Recover(dir); err != nil {
				t.Fatal(err)
			}
			if tc.wantV == "" {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("dir: %v, want not existing", err)
				}
			} else if got := readString(t, filepath.Join(dir, "v.txt")); got != tc.wantV {
				t.Errorf("v.txt = %q, want %q", got, tc.wantV)
			}
			want := slices.Clone(tc.wantLeft)
			if tc.wantV != "" {
				want = append(want, "save")
			}
			slices.Sort(want)
			if n := names(t, parent); !slices.Equal(n, want) {
				t.Errorf("parent holds %q, want %q", n, want)
			}
		})
	}
}

// host2 returns tag with another random part.
func host2(tag string) string { return tag[:len(tag)-8] + "feedbeef" }

func TestRecoverWaitsForLiveWriter(t *testing.T) {
	defer func(d time.Duration) { waitLimit = d }(waitLimit)
	waitLimit = 50 * time.Millisecond
	parent := t.TempDir()
	dir := filepath.Join(parent, "save")
	live := ".save" + marker + "old-" + tagFor(hostTag(), os.Getppid())
	if err := os.Mkdir(filepath.Join(parent, live), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Recover(dir)
	if err == nil || !strings.Contains(err.Error(), "another save is in progress") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err = %v, want a save-in-progress error naming %s", err, dir)
	}
	// The live writer finishes: Recover returns as soon as dir is back.
	waitLimit = 5 * time.Second
	go func() {
		time.Sleep(20 * time.Millisecond)
		os.Rename(filepath.Join(parent, live), dir)
	}()
	if err := Recover(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Error(err)
	}
}

func TestParseTemp(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{".save.govene-new-0123abcd-42-89abcdef", true},
		{".save.govene-bogus-0123abcd-42-89abcdef", false},
		{".save.govene-new-0123abcd-x-89abcdef", false},
		{".save.govene-new-0123abcd-0-89abcdef", false},
		{".save.govene-new-0123abc-42-89abcdef", false},
		{".save.govene-new-0123abcd-42-89abcdeg", false},
		{".save.govene-new-0123abcd-42", false},
		{".saved.govene-new-0123abcd-42-89abcdef", false},
		{"save.govene-new-0123abcd-42-89abcdef", false},
	} {
		if _, ok := parseTemp("save", tc.name); ok != tc.ok {
			t.Errorf("parseTemp(%q) ok = %v, want %v", tc.name, ok, tc.ok)
		}
	}
}
