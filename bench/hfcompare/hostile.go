package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	ghfst "github.com/gomlx/go-huggingface/models/safetensors"
	"github.com/gomlx/go-huggingface/tokenizers/api"
	"github.com/gomlx/go-huggingface/tokenizers/hftokenizer"
	"github.com/govene/govene/bpe"
	"github.com/govene/govene/safetensors"
)

// hostileCase is a file (or something else) put where a checkpoint file
// is expected. Accept says whether a correct reader should accept it.
type hostileCase struct {
	Name   string
	Path   string
	Accept bool
}

// stFile is a safetensors file with the given header JSON and data bytes.
func stFile(header string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, data)...)
}

// withLen is a file whose header-length field says n, followed by rest.
func withLen(n uint64, rest string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
}

// specialFiles makes the cases shared by the safetensors and tokenizer
// checks: a FIFO, links to it and to /dev/zero, a directory.
func specialFiles(dir string) ([]hostileCase, error) {
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		return nil, err
	}
	sub := filepath.Join(dir, "a-directory")
	if err := os.Mkdir(sub, 0o755); err != nil {
		return nil, err
	}
	links := map[string]string{"to-fifo": fifo, "to-zero": "/dev/zero"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			return nil, err
		}
	}
	return []hostileCase{
		{"named pipe (FIFO)", fifo, false},
		{"symlink to a FIFO", filepath.Join(dir, "to-fifo"), false},
		{"symlink to /dev/zero", filepath.Join(dir, "to-zero"), false},
		{"directory", sub, false},
	}, nil
}

// safetensorsCases writes the hostile safetensors files into dir.
func safetensorsCases(dir string) ([]hostileCase, error) {
	cases, err := specialFiles(dir)
	if err != nil {
		return nil, err
	}
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	good := `{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}`
	files := []struct {
		name   string
		data   []byte
		accept bool
	}{
		{"valid (2 tensors)", stFile(good, 32), true},
		{"empty file", nil, false},
		{"3 bytes", []byte("abc"), false},
		{"header length 2^63", withLen(1<<63, "{}"), false},
		{"header length past the end", withLen(1000, "{}"), false},
		{"header nested 20000 deep", withLen(uint64(len(deep)+6), `{"a":`+deep+`}`), false},
		{"data truncated (offsets past the file)", stFile(good, 20), false},
		{"offsets past the file, small tensor", stFile(`{"a":{"dtype":"F32","shape":[1024],"data_offsets":[0,4096]}}`, 16), false},
		{"reversed offsets", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, 8), false},
		{"tensors overlap", stFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F16","shape":[4],"data_offsets":[8,16]}}`, 16), false},
		{"dtype size does not match bytes", stFile(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, 8), false},
		{"negative dimension", stFile(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, 0), false},
		{"unknown dtype", stFile(`{"a":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}}`, 1), false},
	}
	for i, f := range files {
		p := filepath.Join(dir, fmt.Sprintf("st%02d.safetensors", i))
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return nil, err
		}
		cases = append(cases, hostileCase{f.name, p, f.accept})
	}
	return cases, nil
}

// tokenizerCases writes hostile tokenizer.json files into dir.
func tokenizerCases(dir string) ([]hostileCase, error) {
	cases, err := specialFiles(dir)
	if err != nil {
		return nil, err
	}
	big := filepath.Join(dir, "sparse-4GiB.json")
	if err := os.WriteFile(big, []byte("{"), 0o644); err != nil {
		return nil, err
	}
	if err := os.Truncate(big, 4<<30); err != nil {
		return nil, err
	}
	files := []struct{ name, data string }{
		{"not JSON", "hello"},
		{"token id 2^40", `{"model":{"type":"BPE","vocab":{"a":1099511627776},"merges":[]},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},"decoder":{"type":"ByteLevel"}}`},
		{"merge of unknown tokens", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["x y"]},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},"decoder":{"type":"ByteLevel"}}`},
	}
	cases = append(cases, hostileCase{"4 GiB sparse file", big, false})
	for i, f := range files {
		p := filepath.Join(dir, fmt.Sprintf("tok%02d.json", i))
		if err := os.WriteFile(p, []byte(f.data), 0o644); err != nil {
			return nil, err
		}
		cases = append(cases, hostileCase{f.name, p, false})
	}
	return cases, nil
}

// childSTHostile opens path as model.safetensors and reads every tensor.
func childSTHostile(impl, path string) {
	limitMemory(2 << 30)
	n := 0
	var err error
	switch impl {
	case "govene":
		var f *safetensors.File
		if f, err = safetensors.Open(path); err == nil {
			for _, name := range f.Names() {
				if _, _, err = f.Raw(name); err != nil {
					break
				}
				n++
			}
			f.Close()
		}
	case "ghf":
		var cache string
		if cache, err = os.MkdirTemp("", "hfcompare-ghf"); err != nil {
			break
		}
		defer os.RemoveAll(cache)
		repo, stop, lerr := ghfLocalRepo(cache, map[string]string{"model.safetensors": path})
		if lerr != nil {
			err = lerr
			break
		}
		defer stop()
		for _, ierr := range ghfst.IterTensorsFromRepo(nil, repo) {
			if err = ierr; err != nil {
				break
			}
			n++
		}
	}
	report(err, fmt.Sprintf("%d tensors read", n))
}

// childTokHostile loads path as tokenizer.json and encodes one word.
func childTokHostile(impl, path string) {
	limitMemory(2 << 30)
	var err error
	switch impl {
	case "govene":
		dir, _ := os.MkdirTemp("", "hfcompare-tok")
		defer os.RemoveAll(dir)
		_ = os.Symlink(path, filepath.Join(dir, "tokenizer.json"))
		var t *bpe.Tokenizer
		if t, err = bpe.Load(dir); err == nil {
			t.Encode("hello world")
		}
	case "ghf":
		var t *hftokenizer.Tokenizer
		if t, err = hftokenizer.NewFromFile(&api.Config{}, path); err == nil {
			t.Encode("hello world")
		}
	}
	report(err, "loaded")
}
