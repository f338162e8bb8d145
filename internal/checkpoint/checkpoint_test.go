package checkpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/safetensors"
)

// writeFile writes ts to a safetensors file in a temporary folder and
// opens it.
func writeFile(t *testing.T, ts ...safetensors.Tensor) *safetensors.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := safetensors.Write(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func f32(name string, shape ...int) safetensors.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return safetensors.F32Tensor(name, shape, make([]float32, n))
}

func TestLocate(t *testing.T) {
	m := Match{
		Want: []Tensor{{Name: "a.weight", Shape: []int{2, 3}}, {Name: "b.bias", Shape: []int{3}}},
		Rename: func(n string, wanted func(string) bool) string {
			if !wanted(n) && wanted("model."+n) {
				return "model." + n
			}
			return strings.TrimPrefix(n, "transformer.")
		},
		Skip: func(n string) bool { return strings.HasSuffix(n, ".buffer") },
		For:  "the test config", Hint: "is the test config right?", Config: "d=3",
	}
	i64 := safetensors.Tensor{Name: "b.bias", DType: safetensors.I64, Shape: []int{3}, Data: make([]byte, 24)}
	tests := []struct {
		name    string
		tensors []safetensors.Tensor
		want    map[string]string // wanted name -> stored name
		errs    []string
	}{
		{name: "plain", tensors: []safetensors.Tensor{f32("a.weight", 2, 3), f32("b.bias", 3)},
			want: map[string]string{"a.weight": "a.weight", "b.bias": "b.bias"}},
		{name: "renamed and skipped", tensors: []safetensors.Tensor{f32("transformer.a.weight", 2, 3), f32("b.bias", 3), f32("x.buffer", 1)},
			want: map[string]string{"a.weight": "transformer.a.weight", "b.bias": "b.bias"}},
		{name: "missing and extra", tensors: []safetensors.Tensor{f32("a.weight", 2, 3), f32("c", 1)},
			errs: []string{"missing 1 tensors for the test config: b.bias", "1 unexpected tensors (is the test config right?): c"}},
		{name: "stored twice", tensors: []safetensors.Tensor{f32("a.weight", 2, 3), f32("transformer.a.weight", 2, 3)},
			errs: []string{`tensor "a.weight" is stored twice`}},
		{name: "shape and dtype", tensors: []safetensors.Tensor{f32("a.weight", 3, 2), i64},
			errs: []string{`tensor "a.weight" has shape [3 2], but config.json (d=3) needs [2 3]`, `tensor "b.bias" has dtype I64; valid: F32, F16, BF16 or F64`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Locate([]*safetensors.File{writeFile(t, tt.tensors...)})
			if len(tt.errs) > 0 {
				if err == nil {
					t.Fatalf("no error; want %q", tt.errs)
				}
				for _, e := range tt.errs {
					if !strings.Contains(err.Error(), e) {
						t.Errorf("error %q lacks %q", err, e)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d tensors, want %d", len(got), len(tt.want))
			}
			for n, stored := range tt.want {
				if got[n].Name != stored || got[n].File == nil {
					t.Errorf("%s: got %+v, want stored as %q", n, got[n], stored)
				}
			}
		})
	}
}

func TestLocateAbbreviates(t *testing.T) {
	var want []Tensor
	for _, n := range []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"} {
		want = append(want, Tensor{Name: n, Shape: []int{1}})
	}
	m := Match{Want: want, Rename: func(n string, _ func(string) bool) string { return n },
		Skip: func(string) bool { return false }, For: "x"}
	_, err := m.Locate([]*safetensors.File{writeFile(t, f32("other", 1))})
	if err == nil || !strings.Contains(err.Error(), "missing 8 tensors for x: t0, t1, t2, t3, t4, t5, ... (2 more)") {
		t.Fatalf("got %v; want the missing names abbreviated", err)
	}
}

func TestSave(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	want := []Tensor{{Name: "w", Shape: []int{2}}}
	params := []*tensors.Tensor{tensors.FromValue([]float32{1.5, -2})}
	if err := Save(dir, want, params, func() ([]byte, error) { return []byte(`{"a":1}`), nil }); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || string(cfg) != "{\"a\":1}\n" {
		t.Fatalf("config.json = %q, %v", cfg, err)
	}
	f, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make([]float32, 2)
	if _, err := f.Float32Into("w", got); err != nil || got[0] != 1.5 || got[1] != -2 {
		t.Fatalf("w = %v, %v", got, err)
	}

	bad := []Tensor{{Name: "w", Shape: []int{2}}}
	err = Save(t.TempDir(), bad, []*tensors.Tensor{tensors.FromValue([]int32{1, 2})}, func() ([]byte, error) { return nil, nil })
	if err == nil || !strings.HasPrefix(err.Error(), "w: ") {
		t.Fatalf("saving an int32 weight: %v; want an error naming it", err)
	}
}
