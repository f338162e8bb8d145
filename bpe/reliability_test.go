//go:build unix

package bpe

import (
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

// TestLoadHostile gives Load checkpoint folders whose tokenizer files are
// FIFOs, links to /dev/zero, directories, oversized or hostile in content,
// and checks each error names the file and the problem, within 10 s.
func TestLoadHostile(t *testing.T) {
	fifo := func(name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	zero := func(name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.Symlink("/dev/zero", filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	file := func(name, content string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	sized := func(name string, size int64) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			f.Truncate(size) // sparse: no disk used
			f.Close()
		}
	}
	vocabMerges := func(vocab, merges string) []func(t *testing.T, dir string) {
		return []func(t *testing.T, dir string){file("vocab.json", vocab), file("merges.txt", merges)}
	}
	one := func(f func(t *testing.T, dir string)) []func(t *testing.T, dir string) {
		return []func(t *testing.T, dir string){f}
	}
	deep := strings.Repeat(`{"type":"Sequence","pretokenizers":[`, 6000) + strings.Repeat(`]}`, 6000)
	tests := []struct {
		name  string
		setup []func(t *testing.T, dir string)
		is    error
		want  []string
	}{
		{"tokenizer.json is a FIFO", one(fifo("tokenizer.json")), fsx.ErrNotRegular, []string{"tokenizer.json", "named pipe"}},
		{"tokenizer.json links to /dev/zero", one(zero("tokenizer.json")), fsx.ErrNotRegular, []string{"tokenizer.json", "character device"}},
		{"tokenizer.json is a directory", one(func(t *testing.T, dir string) { os.Mkdir(filepath.Join(dir, "tokenizer.json"), 0o755) }),
			fsx.ErrNotRegular, []string{"tokenizer.json", "directory"}},
		{"tokenizer.json over 64 MiB", one(sized("tokenizer.json", MaxTokenizerJSONBytes+1)), fsx.ErrTooLarge,
			[]string{"tokenizer.json", "67108865 bytes", "64 MiB (67108864 bytes) limit"}},
		{"vocab.json is a FIFO", []func(t *testing.T, dir string){fifo("vocab.json"), file("merges.txt", "")}, fsx.ErrNotRegular,
			[]string{"vocab.json", "named pipe"}},
		{"merges.txt is a FIFO", []func(t *testing.T, dir string){file("vocab.json", `{"a":0}`), fifo("merges.txt")}, fsx.ErrNotRegular,
			[]string{"merges.txt", "named pipe"}},
		{"vocab.json links to /dev/zero", []func(t *testing.T, dir string){zero("vocab.json"), file("merges.txt", "")}, fsx.ErrNotRegular,
			[]string{"vocab.json", "character device"}},
		{"merges.txt links to /dev/zero", []func(t *testing.T, dir string){file("vocab.json", `{"a":0}`), zero("merges.txt")}, fsx.ErrNotRegular,
			[]string{"merges.txt", "character device"}},
		{"vocab.json over 32 MiB", []func(t *testing.T, dir string){sized("vocab.json", MaxVocabJSONBytes+1), file("merges.txt", "")}, fsx.ErrTooLarge,
			[]string{"vocab.json", "33554433 bytes", "32 MiB (33554432 bytes) limit"}},
		{"merges.txt over 32 MiB", []func(t *testing.T, dir string){file("vocab.json", `{"a":0}`), sized("merges.txt", MaxMergesBytes+1)}, fsx.ErrTooLarge,
			[]string{"merges.txt", "33554433 bytes", "32 MiB (33554432 bytes) limit"}},
		{"vocab.json id 2^40", vocabMerges(`{"a":1099511627776}`, ""), nil, []string{"vocab.json", `"a"`, "id 1099511627776", "[0, 2097151]"}},
		{"vocab.json id just past the limit", vocabMerges(`{"a":2097152}`, ""), nil, []string{"vocab.json", "id 2097152", "[0, 2097151]"}},
		{"vocab.json negative id", vocabMerges(`{"a":-1}`, ""), nil, []string{"vocab.json", "id -1", "[0, 2097151]"}},
		{"vocab.json id overflows int64", vocabMerges(`{"a":99999999999999999999}`, ""), nil, []string{"vocab.json", "99999999999999999999"}},
		{"vocab.json is an array", vocabMerges(`["a"]`, ""), nil, []string{"vocab.json", "array"}},
		{"vocab.json empty", vocabMerges(``, ""), nil, []string{"vocab.json", "unexpected end of JSON input"}},
		{"vocab.json empty object", vocabMerges(`{}`, ""), nil, []string{"vocab.json", "empty vocabulary"}},
		{"merges.txt line over 1 MiB", vocabMerges(`{"a":0}`, "#version: 0.2\n"+strings.Repeat("a", 1<<20+1)), nil,
			[]string{"merges.txt", "line 2", "longer than the limit of 1048576 bytes"}},
		{"merges.txt line with three tokens", vocabMerges(`{"a":0}`, "a b c\n"), nil, []string{"merges.txt", "line 1", `"a b c"`}},
		{"merges.txt unknown token", vocabMerges(`{"a":0}`, "a z\n"), nil, []string{"merge 1", `"z"`, "not in vocabulary"}},
		{"merges.txt binary", vocabMerges(`{"a":0}`, "\x00\xff\xfe\n"), nil, []string{"merges.txt", "line 1"}},
		{"tokenizer.json added token id 2^40", one(file("tokenizer.json",
			`{"added_tokens":[{"id":1099511627776,"content":"<x>"}],"model":{"vocab":{"a":0}},"pre_tokenizer":{"type":"ByteLevel"}}`)),
			nil, []string{"tokenizer.json", `added token "<x>"`, "id 1099511627776", "[0, 2097151]"}},
		{"tokenizer.json deeply nested pre_tokenizer", one(file("tokenizer.json",
			`{"model":{"vocab":{"a":0}},"pre_tokenizer":`+deep+`}`)), nil, []string{"tokenizer.json", "max depth"}},
		{"tokenizer.json empty", one(file("tokenizer.json", "")), nil, []string{"tokenizer.json", "unexpected end of JSON input"}},
		{"tokenizer.json not UTF-8", one(file("tokenizer.json", "{\"model\":\xff}")), nil, []string{"tokenizer.json", "invalid character"}},
		{"tokenizer.json vocab missing", one(file("tokenizer.json", `{"model":{"type":"BPE"}}`)), nil, []string{"tokenizer.json", "model.vocab is missing or empty"}},
		{"tokenizer.json merge not a pair", one(file("tokenizer.json",
			`{"model":{"vocab":{"a":0},"merges":[["a","b","c"]]},"pre_tokenizer":{"type":"ByteLevel"}}`)), nil,
			[]string{"tokenizer.json", "model.merges[0]", `["a","b","c"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, s := range tt.setup {
				s(t, dir)
			}
			err := fsxtest.Within(t, func() error {
				_, err := Load(dir)
				return err
			})
			if err == nil {
				t.Fatal("Load accepted a hostile folder")
			}
			t.Logf("error: %.300s", err)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error does not wrap %v", tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %.300q does not mention %q", err, w)
				}
			}
		})
	}
	t.Logf("hostile cases: %d", len(tests))

	// The limits are inclusive, and a folder without tokenizer files still
	// reports fs.ErrNotExist.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(minimalTokenizerJSON), 0o644)
	if tok, err := Load(dir); err != nil || len(tok.Encode("ab")) != 1 {
		t.Errorf("minimal tokenizer.json: %v", err)
	}
	if _, err := Load(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty folder: %v, want fs.ErrNotExist", err)
	}
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "vocab.json"), []byte(`{"a":2097151}`), 0o644)
	os.WriteFile(filepath.Join(dir, "merges.txt"), nil, 0o644)
	if tok, err := Load(dir); err != nil || tok.VocabSize() != MaxTokenID+1 {
		t.Errorf("id MaxTokenID: %v", err)
	}
}
