//go:build unix

package safetensors

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/govene/govene/internal/fsx"
	"github.com/govene/govene/internal/fsx/fsxtest"
)

// TestOpenHostile opens paths that are not safetensors files, or files
// whose header lies, and checks each gives an error naming the path and the
// problem within 10 s (opening a FIFO used to block forever).
func TestOpenHostile(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	write := func(name string, data []byte) string {
		if err := os.WriteFile(path(name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path(name)
	}
	if err := syscall.Mkfifo(path("fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"zero": "/dev/zero", "to-fifo": path("fifo"), "dangling": path("nowhere"), "to-dir": dir} {
		if err := os.Symlink(target, path(link)); err != nil {
			t.Fatal(err)
		}
	}
	headerLen := func(n uint64, rest string) []byte {
		return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
	}
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	tests := []struct {
		name string
		path string
		is   error
		want []string
	}{
		{"FIFO", path("fifo"), fsx.ErrNotRegular, []string{path("fifo"), "named pipe"}},
		{"symlink to a FIFO", path("to-fifo"), fsx.ErrNotRegular, []string{path("to-fifo"), "named pipe"}},
		{"symlink to /dev/zero", path("zero"), fsx.ErrNotRegular, []string{path("zero"), "character device"}},
		{"/dev/zero", "/dev/zero", fsx.ErrNotRegular, []string{"/dev/zero", "character device"}},
		{"directory", dir, fsx.ErrNotRegular, []string{dir, "directory"}},
		{"symlink to a directory", path("to-dir"), fsx.ErrNotRegular, []string{path("to-dir"), "directory"}},
		{"dangling symlink", path("dangling"), fs.ErrNotExist, []string{path("dangling")}},
		{"missing", path("missing"), fs.ErrNotExist, []string{path("missing")}},
		{"empty file", write("empty", nil), ErrInvalid, []string{path("empty"), "0 bytes", "8-byte header length"}},
		{"3 bytes", write("short", []byte("abc")), ErrInvalid, []string{path("short"), "3 bytes"}},
		{"header length 2^63", write("h63", headerLen(1<<63, "{}")), ErrInvalid,
			[]string{path("h63"), "header length 9223372036854775808", "limit of 100000000"}},
		{"header length past the end", write("hpast", headerLen(1000, "{}")), ErrInvalid,
			[]string{path("hpast"), "header length 1000", "2 bytes after the length field"}},
		{"header length 0", write("h0", headerLen(0, "")), ErrInvalid, []string{path("h0"), "not a JSON object"}},
		{"header of NUL bytes", write("nul", headerLen(8, "\x00\x00\x00\x00\x00\x00\x00\x00")), ErrInvalid,
			[]string{path("nul"), "not a JSON object"}},
		{"header not UTF-8", write("utf8", headerLen(4, "{\"\xc3\"")), ErrInvalid, []string{path("utf8"), "UTF-8"}},
		{"header deeply nested", write("deep", headerLen(uint64(len(deep)+6), `{"a":`+deep+`}`)), ErrInvalid,
			[]string{path("deep"), `key "a"`, "max depth"}},
		{"offsets as floats", write("fl", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0.0,1]}}`, 1)), ErrInvalid,
			[]string{path("fl"), `tensor "a"`, "data_offsets", "want an integer"}},
		{"offsets null", write("nl", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":null}}`, 1)), ErrInvalid,
			[]string{path("nl"), `tensor "a"`, "data_offsets", "not an array"}},
		{"offsets overflow int64", write("ov", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551616]}}`, 1)), ErrInvalid,
			[]string{path("ov"), `tensor "a"`, "want an integer in int64 range"}},
		{"offsets past the file", write("past", rawFile(`{"a":{"dtype":"F32","shape":[1024],"data_offsets":[0,4096]}}`, 16)), ErrInvalid,
			[]string{path("past"), `tensor "a"`, "[0, 4096]", "16-byte data section"}},
		{"second tensor overlaps the first", write("olap", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F16","shape":[4],"data_offsets":[8,16]}}`, 16)), ErrInvalid,
			[]string{path("olap"), `tensor "b"`, "overlap", `"a"`}},
		{"dtype size does not match the bytes", write("dt", rawFile(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, 8)), ErrInvalid,
			[]string{path("dt"), `tensor "a"`, "span 8 bytes", "F64 needs 16"}},
		{"negative and huge dims", write("neg", rawFile(`{"a":{"dtype":"U8","shape":[-9223372036854775808],"data_offsets":[0,0]}}`, 0)), ErrInvalid,
			[]string{path("neg"), `tensor "a"`, "negative"}},
		{"metadata value not UTF-8 escaped", write("meta", rawFile(`{"__metadata__":{"k":"\udc00"}}`, 0)), nil,
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f *File
			err := fsxtest.Within(t, func() error {
				var err error
				f, err = Open(tt.path)
				return err
			})
			if tt.is == nil && tt.want == nil { // must be accepted
				if err != nil {
					t.Fatal(err)
				}
				f.Close()
				return
			}
			if err == nil {
				f.Close()
				t.Fatalf("Open accepted %s", tt.path)
			}
			if f != nil {
				t.Error("non-nil File on error")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tt.is) {
				t.Errorf("error does not wrap %v", tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	t.Logf("hostile cases: %d", len(tests))
}

// TestConvertHostile asks for conversions a tensor's dtype does not allow
// and for a destination of the wrong size; each must be an error naming
// the tensor, the dtype or the sizes.
func TestConvertHostile(t *testing.T) {
	f, err := Parse(rawFile(`{"f":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"i":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},"b":{"dtype":"BOOL","shape":[3],"data_offsets":[4,7]}}`, 16))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		is   error
		want []string
	}{
		{"Float32 of I64", func() error { _, _, err := f.Float32("i"); return err }, ErrDType, []string{`tensor "i"`, "I64"}},
		{"Float32 of BOOL", func() error { _, _, err := f.Float32("b"); return err }, ErrDType, []string{`tensor "b"`, "BOOL"}},
		{"Int64 of F16", func() error { _, _, err := f.Int64("f"); return err }, ErrDType, []string{`tensor "f"`, "F16"}},
		{"Float32Into too short", func() error { _, err := f.Float32Into("f", make([]float32, 1)); return err }, nil,
			[]string{`tensor "f"`, "destination holds 1 values, the tensor 2"}},
		{"Float32Into too long", func() error { _, err := f.Float32Into("f", make([]float32, 3)); return err }, nil,
			[]string{`tensor "f"`, "destination holds 3 values, the tensor 2"}},
		{"unknown name", func() error { _, _, err := f.Float32("g"); return err }, ErrNotFound, []string{`"g"`, "the file has 3 tensors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	t.Logf("hostile cases: %d", len(tests))
}
