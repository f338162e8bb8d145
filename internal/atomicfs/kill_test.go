package atomicfs_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/internal/atomicfs/killtest"
)

// The folder written: three files, each holding the version, one of them
// 256 KiB, so a mix of versions or a partial file is seen.
var kfiles = []string{"a.txt", "b.txt", "big.bin"}

func fillVersion(v int) func(string) error {
	return func(tmp string) error {
		for _, n := range kfiles {
			data := []byte(strconv.Itoa(v))
			if n == "big.bin" {
				data = bytes.Repeat([]byte(fmt.Sprintf("%08d", v)), 32<<10)
			}
			if err := os.WriteFile(filepath.Join(tmp, n), data, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

func loadVersion(dir string) (int, error) {
	if err := atomicfs.Recover(dir); err != nil {
		return 0, err
	}
	a, err := os.ReadFile(filepath.Join(dir, "a.txt"))
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(string(a))
	if err != nil {
		return 0, fmt.Errorf("a.txt holds %q", a)
	}
	b, err := os.ReadFile(filepath.Join(dir, "b.txt"))
	if err != nil || string(b) != string(a) {
		return 0, fmt.Errorf("b.txt holds %q (%v), a.txt %q: versions mixed", b, err, a)
	}
	big, err := os.ReadFile(filepath.Join(dir, "big.bin"))
	if err != nil || !bytes.Equal(big, bytes.Repeat([]byte(fmt.Sprintf("%08d", v)), 32<<10)) {
		return 0, fmt.Errorf("big.bin (%d bytes, %v) is not version %d", len(big), err, v)
	}
	return v, nil
}

// TestKillReplaceDir kills processes running ReplaceDir in a loop at random
// instants, 200 times (every 4th with the window between the two renames
// widened to 20 ms and the kill inside it), and checks after each kill that
// the previous or the new version loads whole and no temporaries remain.
func TestKillReplaceDir(t *testing.T) {
	if killtest.Child(func() error { return nil }, func(dir string, v int) error {
		return atomicfs.ReplaceDir(dir, fillVersion(v))
	}) {
		return
	}
	res := killtest.Run(t, killtest.Config{
		Test: "TestKillReplaceDir", Kills: 200, WidenEvery: 4, MaxDelay: 30 * time.Millisecond,
		Load: loadVersion,
		Save: func(dir string, v int) error { return atomicfs.ReplaceDir(dir, fillVersion(v)) },
	})
	t.Log(res)
	if res.DirMissing < res.Widened/2 {
		t.Errorf("only %d of %d widened kills hit the window between the renames", res.DirMissing, res.Widened)
	}
}
