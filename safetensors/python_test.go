package safetensors

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestPythonFixture reads testdata/python.safetensors, written by the Python
// safetensors library (testdata/make_py_fixture.py), and compares every
// tensor with testdata/python_expected.json.
func TestPythonFixture(t *testing.T) {
	var want struct {
		Metadata map[string]string `json:"metadata"`
		Tensors  map[string]struct {
			DType   DType    `json:"dtype"`
			Shape   []int    `json:"shape"`
			F32Bits []uint32 `json:"f32_bits"`
			Ints    []int64  `json:"ints"`
		} `json:"tensors"`
	}
	js, err := os.ReadFile("testdata/python_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	f, err := Open("testdata/python.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Metadata(); !reflect.DeepEqual(got, want.Metadata) {
		t.Errorf("Metadata = %v, want %v", got, want.Metadata)
	}
	var names []string
	for n := range want.Tensors {
		names = append(names, n)
	}
	slices.Sort(names)
	if got := f.Names(); !slices.Equal(got, names) {
		t.Fatalf("Names = %v, want %v", got, names)
	}
	for _, name := range names {
		w := want.Tensors[name]
		info, _ := f.Info(name)
		if info.DType != w.DType || !slices.Equal(info.Shape, w.Shape) {
			t.Errorf("%s: info %+v, want %s %v", name, info, w.DType, w.Shape)
		}
		if w.F32Bits != nil {
			got, shape, err := f.Float32(name)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(shape, w.Shape) || len(got) != len(w.F32Bits) {
				t.Fatalf("%s: got %v %v, want %d values of shape %v", name, got, shape, len(w.F32Bits), w.Shape)
			}
			for i, v := range got {
				if math.Float32bits(v) != w.F32Bits[i] {
					t.Errorf("%s[%d] = %g (%#08x), want %g (%#08x)", name, i, v, math.Float32bits(v), math.Float32frombits(w.F32Bits[i]), w.F32Bits[i])
				}
			}
		} else {
			got, shape, err := f.Int64(name)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(shape, w.Shape) || !slices.Equal(got, w.Ints) {
				t.Errorf("%s: got %v %v, want %v %v", name, got, shape, w.Ints, w.Shape)
			}
		}
	}
}

// TestPythonLoadsOurFile writes a file with every dtype and has Python's
// safetensors library load it. It runs only when SAFETENSORS_PYTHON names a
// Python with safetensors and numpy installed, e.g.
//
//	SAFETENSORS_PYTHON=/tmp/stvenv/bin/python go test -run PythonLoads ./safetensors/
func TestPythonLoadsOurFile(t *testing.T) {
	py := os.Getenv("SAFETENSORS_PYTHON")
	if py == "" {
		t.Skip("set SAFETENSORS_PYTHON to a python with safetensors and numpy")
	}
	path := filepath.Join(t.TempDir(), "go.safetensors")
	tensors := []Tensor{
		F32Tensor("f32", []int{2, 3}, []float32{1, 2, 3, 4, 5, -6.5}),
		F32Tensor("scalar", nil, []float32{42}),
		{Name: "f16", DType: F16, Shape: []int{3}, Data: le([]uint16{0x3c00, 0x0001, 0x7bff})},
		{Name: "bf16", DType: BF16, Shape: []int{2}, Data: le([]uint16{0x3f80, 0xc049})},
		{Name: "f64", DType: F64, Shape: []int{1}, Data: le([]float64{0.1})},
		I64Tensor("i64", []int{2}, []int64{math.MinInt64, 7}),
		{Name: "i32", DType: I32, Shape: []int{1}, Data: le([]int32{-5})},
		{Name: "i16", DType: I16, Shape: []int{1}, Data: le([]int16{-6})},
		{Name: "i8", DType: I8, Shape: []int{1}, Data: le([]int8{-7})},
		{Name: "u8", DType: U8, Shape: []int{1}, Data: []byte{200}},
		{Name: "bool", DType: BOOL, Shape: []int{2}, Data: []byte{1, 0}},
		{Name: "empty", DType: F32, Shape: []int{0, 4}},
	}
	if err := Write(path, tensors, map[string]string{"who": "govene"}); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, json
from safetensors import safe_open
out = {}
with safe_open(sys.argv[1], "np") as f:
    out["meta"] = f.metadata()
    for k in f.keys():
        a = f.get_tensor(k) if k != "bf16" else None
        sl = f.get_slice(k)
        out[k] = {"dtype": sl.get_dtype(), "shape": list(sl.get_shape()),
                  "values": None if a is None else [float(x) if a.dtype.kind == "f" else int(x) for x in a.reshape(-1)]}
print(json.dumps(out, sort_keys=True))
`
	cmd := exec.Command(py, "-c", script, path)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	got := string(out)
	for _, want := range []string{
		`"meta": {"who": "govene"}`,
		`"f32": {"dtype": "F32", "shape": [2, 3], "values": [1.0, 2.0, 3.0, 4.0, 5.0, -6.5]}`,
		`"scalar": {"dtype": "F32", "shape": [], "values": [42.0]}`,
		`"f16": {"dtype": "F16", "shape": [3], "values": [1.0, 5.960464477539063e-08, 65504.0]}`,
		`"bf16": {"dtype": "BF16", "shape": [2]`,
		`"i64": {"dtype": "I64", "shape": [2], "values": [-9223372036854775808, 7]}`,
		`"bool": {"dtype": "BOOL", "shape": [2], "values": [1, 0]}`,
		`"empty": {"dtype": "F32", "shape": [0, 4], "values": []}`,
		`"u8": {"dtype": "U8", "shape": [1], "values": [200]}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("python output lacks %s\n%s", want, got)
		}
	}
}
