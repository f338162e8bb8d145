//go:build unix

package fsx

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/govene/govene/internal/fsx/fsxtest"
)

func TestReadFileHostile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	fifoLink := filepath.Join(dir, "fifo-link")
	zeroLink := filepath.Join(dir, "zero-link")
	dangling := filepath.Join(dir, "dangling")
	for link, target := range map[string]string{fifoLink: fifo, zeroLink: "/dev/zero", dangling: filepath.Join(dir, "nowhere")} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	ok := write("ok", []byte("hello"), 0o644)
	big := write("big", make([]byte, 101), 0o644)
	locked := write("locked", []byte("x"), 0o000)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)

	tests := []struct {
		name string
		path string
		is   error
		want []string
	}{
		{"fifo", fifo, ErrNotRegular, []string{fifo, "named pipe"}},
		{"symlink to fifo", fifoLink, ErrNotRegular, []string{fifoLink, "named pipe"}},
		{"symlink to /dev/zero", zeroLink, ErrNotRegular, []string{zeroLink, "character device"}},
		{"/dev/zero", "/dev/zero", ErrNotRegular, []string{"/dev/zero", "character device"}},
		{"directory", sub, ErrNotRegular, []string{sub, "directory"}},
		{"too large", big, ErrTooLarge, []string{big, "101 bytes", "100 bytes", "test file"}},
		{"missing", filepath.Join(dir, "none"), fs.ErrNotExist, []string{"none"}},
		{"dangling symlink", dangling, fs.ErrNotExist, []string{"dangling"}},
	}
	if os.Geteuid() != 0 { // root reads mode-000 files
		tests = append(tests, struct {
			name string
			path string
			is   error
			want []string
		}{"permission denied", locked, fs.ErrPermission, []string{locked}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fsxtest.Within(t, func() error {
				_, err := ReadFile(tt.path, "test file", 100)
				return err
			})
			if !errors.Is(err, tt.is) {
				t.Fatalf("error %v does not wrap %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	t.Logf("hostile cases: %d", len(tests))
	got, err := ReadFile(ok, "test file", 5)
	if err != nil || string(got) != "hello" {
		t.Fatalf("ReadFile(ok) = %q, %v", got, err)
	}
	if _, err := ReadFile(big, "test file", Unlimited); err != nil {
		t.Fatalf("Unlimited: %v", err)
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{
		16 << 20: "16 MiB (16777216 bytes)", 4 << 10: "4 KiB (4096 bytes)", 1 << 30: "1 GiB (1073741824 bytes)", 100: "100 bytes",
	} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
