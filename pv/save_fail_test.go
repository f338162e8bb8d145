package pv

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/internal/fsx/fsxtest"
)

// TestSaveFailureKeepsPrevious: a Save that fails at any point (a disk error
// while writing a file, or at any step of the folder swap) returns an error
// naming the folder and leaves the previous save loadable and whole, with no
// temporaries beside it; the next Save then succeeds.
func TestSaveFailureKeepsPrevious(t *testing.T) {
	disk := errors.New("no space left on device (simulated)")
	m := tiny(t)
	iv, err := New(m, killConfig())
	if err != nil {
		t.Fatal(err)
	}
	// failAt fails step of the swap, for every path.
	failAt := func(step atomicfs.Step) atomicfs.Hook {
		return func(s atomicfs.Step, p string) error {
			if s == step {
				return disk
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name string
		hook atomicfs.Hook
		want string
	}{
		{"disk error writing the weights", func(s atomicfs.Step, p string) error {
			if s == atomicfs.StepWrite && strings.Contains(p, "interventions.safetensors") {
				return disk
			}
			return nil
		}, "interventions.safetensors"},
		{"weights written, rename fails", func(s atomicfs.Step, p string) error {
			if s == atomicfs.StepSynced && strings.Contains(p, "interventions.safetensors") {
				return disk
			}
			return nil
		}, "synced"},
		{"folder filled", failAt(atomicfs.StepFilled), "filled"},
		{"folder marked ready", failAt(atomicfs.StepReady), "ready"},
		{"old folder moved aside", failAt(atomicfs.StepOldAside), "old-aside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "iv")
			saveVersion1(t, iv, dir)
			restore := atomicfs.SetTestHook(tc.hook)
			err := iv.Save(dir)
			restore()
			if err == nil || !strings.HasPrefix(err.Error(), "pv: save "+dir+": ") ||
				!strings.Contains(err.Error(), tc.want) || !errors.Is(err, disk) {
				t.Fatalf("err = %v, want pv: save %s: ... %s ... %v", err, dir, tc.want, disk)
			}
			loaded, err := Load(dir, m)
			if err != nil {
				t.Fatal(err)
			}
			if v, err := checkVersion(loaded); err != nil || v != 1 {
				t.Fatalf("after the failed save: version %d, %v; want the previous save (1)", v, err)
			}
			if n := entries(t, parent); !slices.Equal(n, []string{"iv"}) {
				t.Errorf("folder holds %q, want only iv", n)
			}
			if err := iv.Save(dir); err != nil {
				t.Fatal(err)
			}
			loaded, err = Load(dir, m)
			if err != nil {
				t.Fatal(err)
			}
			if v, err := checkVersion(loaded); err != nil || v != 2 {
				t.Fatalf("after saving again: version %d, %v; want 2", v, err)
			}
		})
	}
	t.Run("target is a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "iv")
		if err := os.WriteFile(f, []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := iv.Save(f)
		if err == nil || !strings.Contains(err.Error(), "pv: save "+f) || !strings.Contains(err.Error(), "not a folder") {
			t.Fatalf("err = %v, want one naming %s and saying it is not a folder", err, f)
		}
		if b, _ := os.ReadFile(f); string(b) != "keep" {
			t.Errorf("file now holds %q", b)
		}
	})
}

// TestLoadRecoversInterruptedSave snapshots the folder while Save is
// between its two renames (the target missing, the old and the new folder
// beside it) and checks that Load of the snapshot finishes the save: it
// loads the new weights, and the temporaries are gone.
func TestLoadRecoversInterruptedSave(t *testing.T) {
	m := tiny(t)
	iv, err := New(m, killConfig())
	if err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "iv")
	snap := filepath.Join(t.TempDir(), "snap")
	saveVersion1(t, iv, dir)
	restore := atomicfs.SetTestHook(func(s atomicfs.Step, p string) error {
		if s == atomicfs.StepOldAside {
			return os.CopyFS(snap, os.DirFS(parent))
		}
		return nil
	})
	err = iv.Save(dir)
	restore()
	if err != nil {
		t.Fatal(err)
	}
	n := entries(t, snap)
	if slices.Contains(n, "iv") || len(n) != 2 {
		t.Fatalf("snapshot holds %q, want the old and the ready folder and no iv", n)
	}
	loaded, err := Load(filepath.Join(snap, "iv"), m)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := checkVersion(loaded); err != nil || v != 2 {
		t.Fatalf("recovered version %d, %v; want 2 (the complete new save)", v, err)
	}
	if n := entries(t, snap); !slices.Equal(n, []string{"iv"}) {
		t.Errorf("after Load the snapshot holds %q, want only iv", n)
	}
}

// saveVersion1 saves iv at version 1 into dir, then sets its version to 2
// without saving, or fails t.
func saveVersion1(t *testing.T, iv *Model, dir string) {
	t.Helper()
	if err := setVersion(iv, 1); err != nil {
		t.Fatal(err)
	}
	if err := iv.Save(dir); err != nil {
		t.Fatal(err)
	}
	if err := setVersion(iv, 2); err != nil {
		t.Fatal(err)
	}
}

// entries returns the entries of dir, sorted; none for a missing folder.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fsxtest.Names(t, dir)
}
