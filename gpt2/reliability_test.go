//go:build unix

package gpt2

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govene/govene/internal/fsx/fsxtest"
	"github.com/govene/govene/safetensors"
)

func wantErrContains(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", want)
	}
	t.Logf("error: %v", err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

const p40 = "1099511627776" // 2^40

// TestConfigHostile feeds config.json values that are out of range, of the
// wrong type or not JSON at all, and checks each error names the field, the
// value and the valid range. The first five used to allocate 2^40-element
// tensors (fatal out of memory) before any shape was compared.
func TestConfigHostile(t *testing.T) {
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	tests := []struct {
		name, json string
		want       []string
	}{
		{"n_positions 2^40", `{"n_positions":` + p40 + `}`, []string{"n_positions", p40, "[1, 1048576]"}},
		{"vocab_size 2^40", `{"vocab_size":` + p40 + `}`, []string{"vocab_size", p40, "[1, 2097152]"}},
		{"n_inner 2^40", `{"n_inner":` + p40 + `}`, []string{"n_inner", p40, "[1, 262144]"}},
		{"n_embd 2^40", `{"n_embd":` + p40 + `,"n_head":1}`, []string{"n_embd", p40, "[1, 65536]"}},
		{"n_layer 2^40", `{"n_layer":` + p40 + `}`, []string{"n_layer", p40, "[1, 1024]"}},
		{"n_head 2^40", `{"n_head":` + p40 + `}`, []string{"n_head", p40, "[1, 1024]"}},
		{"n_layer negative", `{"n_layer":-3}`, []string{"n_layer", "-3", "[1, 1024]"}},
		{"n_embd zero", `{"n_embd":0}`, []string{"n_embd", "0", "[1, 65536]"}},
		{"n_positions negative", `{"n_positions":-1}`, []string{"n_positions", "-1", "[1, 1048576]"}},
		{"n_inner negative", `{"n_inner":-7}`, []string{"n_inner", "-7", "null, 0", "[1, 262144]"}},
		{"vocab_size zero", `{"vocab_size":0}`, []string{"vocab_size", "0", "[1, 2097152]"}},
		{"each size in range, too many weights", `{"n_layer":1024,"n_head":1024,"n_embd":65536}`,
			[]string{"model size", "n_layer=1024", "n_embd=65536", "weights", "at most 4294967296"}},
		{"epsilon negative", `{"layer_norm_epsilon":-1e-5}`, []string{"layer_norm_epsilon", "-1e-05", "(0, 1)"}},
		{"epsilon zero", `{"layer_norm_epsilon":0}`, []string{"layer_norm_epsilon", "0", "(0, 1)"}},
		{"epsilon one", `{"layer_norm_epsilon":1}`, []string{"layer_norm_epsilon", "1", "(0, 1)"}},
		{"epsilon NaN literal", `{"layer_norm_epsilon":NaN}`, []string{"parse config", "invalid character 'N'"}},
		{"epsilon overflows float64", `{"layer_norm_epsilon":1e400}`, []string{"layer_norm_epsilon", "1e400"}},
		{"size overflows int64", `{"n_layer":99999999999999999999}`, []string{"n_layer", "99999999999999999999"}},
		{"size is a fraction", `{"n_embd":768.5}`, []string{"n_embd", "768.5"}},
		{"size is a string", `{"n_head":"12"}`, []string{"n_head", "string"}},
		{"size is an object", `{"vocab_size":{"a":1}}`, []string{"vocab_size", "object"}},
		{"activation unknown", `{"activation_function":"swiglu"}`, []string{"activation_function", `"swiglu"`, "gelu_new"}},
		{"model_type other", `{"model_type":"llama"}`, []string{"model_type", `"llama"`, `"gpt2"`}},
		{"reorder_and_upcast_attn", `{"reorder_and_upcast_attn":true}`, []string{"reorder_and_upcast_attn", "true"}},
		{"empty", ``, []string{"want a JSON object", "empty"}},
		{"null", `null`, []string{"want a JSON object", `"null"`}},
		{"array", `[1,2]`, []string{"want a JSON object", `"[1,2]"`}},
		{"number", `42`, []string{"want a JSON object", `"42"`}},
		{"truncated", `{"n_layer":12,`, []string{"parse config", "unexpected end"}},
		{"trailing garbage", `{"n_layer":12} x`, []string{"parse config", "invalid character 'x'"}},
		{"non-UTF-8 bytes", "{\"n_layer\":\xff\xfe}", []string{"parse config", "invalid character"}},
		{"deeply nested", `{"x":` + deep + `}`, []string{"parse config", "depth"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.json))
			if err == nil {
				t.Fatalf("accepted %+v", c)
			}
			wantErrContains(t, err, tt.want...)
		})
	}
	hostileCases.add(t, len(tests))
}

// TestConfigLimitsAccepted checks the limits are inclusive and that GPT-2
// XL's configuration passes with room to spare.
func TestConfigLimitsAccepted(t *testing.T) {
	for _, js := range []string{
		`{"n_layer":48,"n_head":25,"n_embd":1600}`, // GPT-2 XL
		`{"n_layer":1,"n_head":1,"n_embd":8,"n_positions":1048576,"vocab_size":2097152,"n_inner":262144}`,
		`{"n_layer":1024,"n_head":512,"n_embd":512}`, // 3.2e9 weights
	} {
		if _, err := ParseConfig([]byte(js)); err != nil {
			t.Errorf("%s: %v", js, err)
		}
	}
	if n := DefaultConfig().NumParams(); n != 124439808 {
		t.Errorf("GPT-2 small NumParams = %d, want 124439808", n)
	}
}

// hostileDir returns a folder holding a valid tiny checkpoint.
func hostileDir(t *testing.T) string {
	t.Helper()
	_, dir := savedTiny(t)
	return dir
}

// writeRaw writes a safetensors file from a literal header and n data bytes.
func writeRaw(t *testing.T, path, header string, n int) {
	t.Helper()
	b := make([]byte, 8, 8+len(header)+n)
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(append(b, header...), make([]byte, n)...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadDirHostile breaks a valid checkpoint folder in hostile or
// careless ways and checks LoadDir returns an error naming the file and the
// problem, within 10 s and without allocating from the bad input.
func TestLoadDirHostile(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   []string
	}{
		{"config.json is a FIFO", func(t *testing.T, dir string) {
			fsxtest.Mkfifo(t, filepath.Join(dir, "config.json"))
		}, []string{"config.json", "named pipe", "not a regular file"}},
		{"config.json links to /dev/zero", func(t *testing.T, dir string) {
			fsxtest.Symlink(t, "/dev/zero", filepath.Join(dir, "config.json"))
		}, []string{"config.json", "character device", "not a regular file"}},
		{"config.json is a directory", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "config.json"))
			os.Mkdir(filepath.Join(dir, "config.json"), 0o755)
		}, []string{"config.json", "directory"}},
		{"config.json over 16 MiB", func(t *testing.T, dir string) {
			os.Truncate(filepath.Join(dir, "config.json"), MaxConfigBytes+1)
		}, []string{"config.json", "16777217 bytes", "16 MiB (16777216 bytes) limit"}},
		{"config.json empty", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "config.json"), nil, 0o644)
		}, []string{"config.json", "want a JSON object", "empty"}},
		{"config.json asks for 2^40 positions", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"n_positions":`+p40+`}`), 0o644)
		}, []string{"config.json", "n_positions", p40, "[1, 1048576]"}},
		{"config.json asks for 2^20 positions, file has 16", func(t *testing.T, dir string) {
			c := tinyConfig()
			c.NPositions = 1 << 20
			writeConfig(t, dir, c)
		}, []string{"model.safetensors", `"wpe.weight"`, "[16 8]", "[1048576 8]", "n_positions=1048576"}},
		{"config.json asks for the largest vocabulary, file has 300", func(t *testing.T, dir string) {
			c := tinyConfig()
			c.VocabSize = MaxVocabSize
			writeConfig(t, dir, c)
		}, []string{`"wte.weight"`, "[300 8]", "[2097152 8]", "vocab_size=2097152"}},
		{"config.json asks for a wide MLP", func(t *testing.T, dir string) {
			c := tinyConfig()
			inner := MaxNInner
			c.NInner = &inner
			writeConfig(t, dir, c)
		}, []string{`"h.0.mlp.c_fc.weight"`, "[8 32]", "[8 262144]", "n_inner=262144"}},
		{"model.safetensors is a FIFO", func(t *testing.T, dir string) {
			fsxtest.Mkfifo(t, filepath.Join(dir, "model.safetensors"))
		}, []string{"model.safetensors", "named pipe", "not a regular file"}},
		{"model.safetensors links to /dev/zero", func(t *testing.T, dir string) {
			fsxtest.Symlink(t, "/dev/zero", filepath.Join(dir, "model.safetensors"))
		}, []string{"model.safetensors", "character device"}},
		{"model.safetensors is a directory", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "model.safetensors"))
			os.Mkdir(filepath.Join(dir, "model.safetensors"), 0o755)
		}, []string{"model.safetensors", "directory"}},
		{"model.safetensors empty", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "model.safetensors"), nil, 0o644)
		}, []string{"model.safetensors", "0 bytes", "8-byte header length"}},
		{"header length past the end of the file", func(t *testing.T, dir string) {
			writeRaw(t, filepath.Join(dir, "model.safetensors"), `{}`, 0)
			f, _ := os.OpenFile(filepath.Join(dir, "model.safetensors"), os.O_WRONLY, 0)
			binary.Write(f, binary.LittleEndian, uint64(1<<40))
			f.Close()
		}, []string{"model.safetensors", "header length 1099511627776", "limit"}},
		{"tensor data past the end of the file", func(t *testing.T, dir string) {
			writeRaw(t, filepath.Join(dir, "model.safetensors"),
				`{"wte.weight":{"dtype":"F32","shape":[300,8],"data_offsets":[0,9600]}}`, 100)
		}, []string{"model.safetensors", `"wte.weight"`, "[0, 9600]", "100-byte data section"}},
		{"overlapping tensors", func(t *testing.T, dir string) {
			writeRaw(t, filepath.Join(dir, "model.safetensors"),
				`{"ln_f.weight":{"dtype":"F32","shape":[8],"data_offsets":[0,32]},"ln_f.bias":{"dtype":"F32","shape":[8],"data_offsets":[16,48]}}`, 48)
		}, []string{"model.safetensors", "ln_f", "overlap"}},
		{"negative dimension", func(t *testing.T, dir string) {
			writeRaw(t, filepath.Join(dir, "model.safetensors"),
				`{"ln_f.weight":{"dtype":"F32","shape":[-8],"data_offsets":[0,32]}}`, 32)
		}, []string{"model.safetensors", `"ln_f.weight"`, "negative"}},
		{"overflowing shape", func(t *testing.T, dir string) {
			writeRaw(t, filepath.Join(dir, "model.safetensors"),
				`{"wte.weight":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, 0)
		}, []string{"model.safetensors", `"wte.weight"`, "overflows"}},
		{"shape and byte size disagree", func(t *testing.T, dir string) {
			writeRaw(t, filepath.Join(dir, "model.safetensors"),
				`{"ln_f.weight":{"dtype":"F32","shape":[8],"data_offsets":[0,16]}}`, 16)
		}, []string{"model.safetensors", `"ln_f.weight"`, "span 16 bytes", "needs 32"}},
		{"integer dtype", func(t *testing.T, dir string) {
			rewrite(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				for i := range ts {
					if ts[i].Name == "wpe.weight" {
						ts[i] = safetensors.Tensor{Name: ts[i].Name, DType: safetensors.I32, Shape: ts[i].Shape, Data: make([]byte, 4*16*8)}
					}
				}
				return ts
			})
		}, []string{`"wpe.weight"`, "dtype I32", "F32, F16, BF16 or F64"}},
		{"tensor stored twice", func(t *testing.T, dir string) {
			rewrite(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
				return append(ts, safetensors.F32Tensor("transformer.ln_f.bias", []int{8}, make([]float32, 8)))
			})
		}, []string{`"ln_f.bias"`, "stored twice", `"transformer.ln_f.bias"`}},
		{"vocab.json is a FIFO", func(t *testing.T, dir string) {
			fsxtest.Mkfifo(t, filepath.Join(dir, "vocab.json"))
			os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\n"), 0o644)
		}, []string{"vocab.json", "named pipe"}},
		{"merges.txt links to /dev/zero", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "vocab.json"), []byte(`{"a":0}`), 0o644)
			fsxtest.Symlink(t, "/dev/zero", filepath.Join(dir, "merges.txt"))
		}, []string{"merges.txt", "character device"}},
		{"tokenizer.json is a FIFO", func(t *testing.T, dir string) {
			fsxtest.Mkfifo(t, filepath.Join(dir, "tokenizer.json"))
		}, []string{"tokenizer.json", "named pipe"}},
		{"tokenizer.json links to /dev/zero", func(t *testing.T, dir string) {
			fsxtest.Symlink(t, "/dev/zero", filepath.Join(dir, "tokenizer.json"))
		}, []string{"tokenizer.json", "character device"}},
		{"vocab.json with a 2^40 id", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "vocab.json"), []byte(`{"a":`+p40+`}`), 0o644)
			os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\n"), 0o644)
		}, []string{"vocab.json", "id " + p40, "[0, 2097151]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := hostileDir(t)
			tt.break_(t, dir)
			err := fsxtest.Within(t, func() error {
				_, err := LoadDir(dir, Options{})
				return err
			})
			wantErrContains(t, err, tt.want...)
		})
	}
	hostileCases.add(t, len(tests))
}

func writeConfig(t *testing.T, dir string, c Config) {
	t.Helper()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadHFCacheHostile builds a Hugging Face cache whose snapshot files
// are symlinks (as huggingface_hub writes them) to hostile targets, and
// checks Load fails fast, offline, naming the file.
func TestLoadHFCacheHostile(t *testing.T) {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name   string
		break_ func(t *testing.T, repo, snap string)
		want   []string
	}{
		{"config.json blob is a FIFO", func(t *testing.T, repo, snap string) {
			fsxtest.Mkfifo(t, filepath.Join(repo, "blobs", "cfg"))
		}, []string{"acme/tiny", "missing: config.json (a named pipe (FIFO), not a regular file)"}},
		{"model.safetensors blob is /dev/zero", func(t *testing.T, repo, snap string) {
			fsxtest.Symlink(t, "/dev/zero", filepath.Join(repo, "blobs", "weights"))
		}, []string{"acme/tiny", "model.safetensors (a character device, not a regular file)"}},
		{"snapshot file links straight to /dev/zero", func(t *testing.T, repo, snap string) {
			fsxtest.Symlink(t, "/dev/zero", filepath.Join(snap, "config.json"))
		}, []string{"acme/tiny", "config.json (a character device, not a regular file)"}},
		{"refs/main is a FIFO", func(t *testing.T, repo, snap string) {
			fsxtest.Mkfifo(t, filepath.Join(repo, "refs", "main"))
		}, []string{"acme/tiny", "not in the Hugging Face cache", "refs/main (unreadable", "named pipe"}},
		{"refs/main links to /dev/zero", func(t *testing.T, repo, snap string) {
			fsxtest.Symlink(t, "/dev/zero", filepath.Join(repo, "refs", "main"))
		}, []string{"acme/tiny", "not in the Hugging Face cache", "refs/main (unreadable", "character device"}},
		{"tokenizer.json blob is a FIFO", func(t *testing.T, repo, snap string) {
			fsxtest.Mkfifo(t, filepath.Join(repo, "blobs", "tok"))
			fsxtest.Symlink(t, "../../blobs/tok", filepath.Join(snap, "tokenizer.json"))
		}, []string{"tokenizer.json", "named pipe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			t.Setenv("HF_HUB_CACHE", cache)
			t.Setenv("HF_HUB_OFFLINE", "1")
			src := hostileDir(t)
			repo := filepath.Join(cache, "models--acme--tiny")
			snap := filepath.Join(repo, "snapshots", commit)
			for _, d := range []string{filepath.Join(repo, "blobs"), filepath.Join(repo, "refs"), snap} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for file, blob := range map[string]string{"config.json": "cfg", "model.safetensors": "weights"} {
				if err := os.Rename(filepath.Join(src, file), filepath.Join(repo, "blobs", blob)); err != nil {
					t.Fatal(err)
				}
				fsxtest.Symlink(t, "../../blobs/"+blob, filepath.Join(snap, file))
			}
			os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644)
			if _, err := Load("acme/tiny"); err != nil {
				t.Fatalf("the intact cache does not load: %v", err)
			}
			tt.break_(t, repo, snap)
			err := fsxtest.Within(t, func() error {
				_, err := Load("acme/tiny")
				return err
			})
			wantErrContains(t, err, tt.want...)
		})
	}
	hostileCases.add(t, len(tests))
}

// TestRandomRefusesHugeConfig checks Random validates before allocating.
func TestRandomRefusesHugeConfig(t *testing.T) {
	c := tinyConfig()
	c.VocabSize = 1 << 40
	_, err := Random(c, 1, Options{})
	wantErrContains(t, err, "vocab_size", p40, "[1, 2097152]")
	c = tinyConfig()
	c.NLayer, c.NEmbd, c.NHead = MaxNLayer, MaxNEmbd, 1024
	_, err = Random(c, 1, Options{})
	wantErrContains(t, err, "model size", "at most 4294967296")
	hostileCases.add(t, 2)
}

// hostileCases logs how many hostile inputs a test tried (run with -v and
// add up the lines for the README's count).
var hostileCases caseLogger

type caseLogger struct{}

func (caseLogger) add(t *testing.T, n int) { t.Logf("hostile cases: %d", n) }
