package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/govene/govene/internal/atomicfs"
)

// rawFile builds a file from a literal header (padded to 8 bytes) and a data
// section of dataLen bytes 0, 1, 2, ...
func rawFile(header string, dataLen int) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	for i := 0; i < dataLen; i++ {
		b = append(b, byte(i))
	}
	return b
}

func encodeBytes(t testing.TB, tensors []Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, tensors, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// le encodes values little-endian.
func le(vals ...any) []byte {
	var buf bytes.Buffer
	for _, v := range vals {
		if err := binary.Write(&buf, binary.LittleEndian, v); err != nil {
			panic(err)
		}
	}
	return buf.Bytes()
}

func TestRoundTripEveryDType(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		dtype  DType
		shape  []int
		data   []byte
		floats []float32 // want from Float32, if a float dtype
		ints   []int64   // want from Int64, if an integer dtype
	}{
		{F32, []int{2, 2}, le([]float32{1.5, -0.25, float32(math.Inf(1)), nan}), []float32{1.5, -0.25, float32(math.Inf(1)), nan}, nil},
		{F16, []int{4}, le([]uint16{0x3c00, 0x0001, 0xfc00, 0x7bff}), []float32{1, float32(math.Ldexp(1, -24)), float32(math.Inf(-1)), 65504}, nil},
		{BF16, []int{3}, le([]uint16{0x3f80, 0xc049, 0x7fc0}), []float32{1, -3.140625, nan}, nil},
		{F64, []int{1, 3}, le([]float64{0.1, -1e300, 2}), []float32{0.1, float32(math.Inf(-1)), 2}, nil},
		{I64, []int{2}, le([]int64{math.MinInt64, math.MaxInt64}), nil, []int64{math.MinInt64, math.MaxInt64}},
		{I32, []int{3}, le([]int32{math.MinInt32, -1, math.MaxInt32}), nil, []int64{math.MinInt32, -1, math.MaxInt32}},
		{I16, []int{2}, le([]int16{-32768, 32767}), nil, []int64{-32768, 32767}},
		{I8, []int{3}, le([]int8{-128, 0, 127}), nil, []int64{-128, 0, 127}},
		{U8, []int{3}, []byte{0, 128, 255}, nil, []int64{0, 128, 255}},
		{BOOL, []int{4}, []byte{1, 0, 1, 7}, nil, []int64{1, 0, 1, 1}},
		{U16, []int{2}, le([]uint16{0, 65535}), nil, []int64{0, 65535}},
		{U32, []int{2}, le([]uint32{0, math.MaxUint32}), nil, []int64{0, math.MaxUint32}},
		{U64, []int{1}, le([]uint64{math.MaxInt64}), nil, []int64{math.MaxInt64}},
		{F32, []int{}, le(float32(42)), []float32{42}, nil},              // scalar
		{I64, []int{0, 3}, nil, nil, []int64{}},                          // empty
		{F16, []int{2, 0}, nil, []float32{}, nil},                        // empty
		{BF16, []int{1, 1, 1, 1}, le(uint16(0x4000)), []float32{2}, nil}, // rank 4
	}
	dir := t.TempDir()
	for _, tc := range tests {
		name := fmt.Sprintf("%s%v", tc.dtype, tc.shape)
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.NewReplacer("[", "_", "]", "_", " ", "_").Replace(name)+".safetensors")
			other := I64Tensor("zz_other", []int{1}, []int64{5}) // forces a second tensor and alignment
			meta := map[string]string{"dtype": string(tc.dtype)}
			if err := Write(path, []Tensor{{Name: "t", DType: tc.dtype, Shape: tc.shape, Data: tc.data}, other}, meta); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.Names(); !reflect.DeepEqual(got, []string{"t", "zz_other"}) {
				t.Errorf("Names = %q", got)
			}
			if got := f.Metadata(); !reflect.DeepEqual(got, meta) {
				t.Errorf("Metadata = %v, want %v", got, meta)
			}
			raw, info, err := f.Raw("t")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, tc.data) {
				t.Errorf("Raw = %x, want %x", raw, tc.data)
			}
			if info.DType != tc.dtype || !reflect.DeepEqual(info.Shape, tc.shape) || info.Name != "t" {
				t.Errorf("Info = %+v", info)
			}
			if info.Offsets[0]%int64(tc.dtype.Size()) != 0 {
				t.Errorf("offset %d not aligned to %d", info.Offsets[0], tc.dtype.Size())
			}
			if tc.dtype.IsFloat() {
				got, shape, err := f.Float32("t")
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(shape, tc.shape) {
					t.Errorf("shape = %v, want %v", shape, tc.shape)
				}
				if len(got) != len(tc.floats) {
					t.Fatalf("Float32 = %v, want %v", got, tc.floats)
				}
				for i := range got {
					if got[i] != tc.floats[i] && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(tc.floats[i]))) {
						t.Errorf("Float32[%d] = %g, want %g", i, got[i], tc.floats[i])
					}
				}
				if _, _, err := f.Int64("t"); !errors.Is(err, ErrDType) {
					t.Errorf("Int64 of %s: err = %v, want ErrDType", tc.dtype, err)
				}
			} else {
				got, shape, err := f.Int64("t")
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(shape, tc.shape) || !slices.Equal(got, tc.ints) {
					t.Errorf("Int64 = %v %v, want %v %v", got, shape, tc.ints, tc.shape)
				}
				if _, _, err := f.Float32("t"); !errors.Is(err, ErrDType) || !strings.Contains(err.Error(), `tensor "t"`) {
					t.Errorf("Float32 of %s: err = %v, want ErrDType naming the tensor", tc.dtype, err)
				}
			}
			// The file must also be byte-identical when re-encoded.
			onDisk, _ := os.ReadFile(path)
			again := encodeBytes(t, []Tensor{{Name: "t", DType: tc.dtype, Shape: tc.shape, Data: tc.data}, other}, meta)
			if !bytes.Equal(onDisk, again) {
				t.Errorf("Encode and Write differ")
			}
		})
	}
}

func TestWriteLayout(t *testing.T) {
	b := encodeBytes(t, []Tensor{
		{Name: "b", DType: U8, Shape: []int{3}, Data: []byte{1, 2, 3}},
		F32Tensor("a", []int{2}, []float32{1, 2}),
		I64Tensor("c", []int{1}, []int64{9}),
		{Name: "h", DType: F16, Shape: []int{1}, Data: []byte{0, 0x3c}},
	}, map[string]string{"k<&>": "v"})
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", n)
	}
	header := string(b[8 : 8+n])
	want := `{"__metadata__":{"k<&>":"v"},` +
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},` +
		`"b":{"dtype":"U8","shape":[3],"data_offsets":[18,21]},` +
		`"c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},` +
		`"h":{"dtype":"F16","shape":[1],"data_offsets":[16,18]}}`
	if strings.TrimRight(header, " ") != want {
		t.Errorf("header\n got %s\nwant %s", header, want)
	}
	if len(header)-len(want) >= 8 {
		t.Errorf("too much padding: %q", header)
	}
	if got := len(b) - 8 - int(n); got != 21 {
		t.Errorf("data section is %d bytes, want 21", got)
	}
	// No metadata: no __metadata__ key; no tensors: "{}" padded.
	b = encodeBytes(t, nil, nil)
	if string(b[8:]) != "{}      " {
		t.Errorf("empty file = %q", b)
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"short data", []Tensor{{Name: "x", DType: F32, Shape: []int{3}, Data: make([]byte, 8)}}, nil, `tensor "x": data has 8 bytes, but shape [3] of F32 needs 12`},
		{"long data", []Tensor{F32Tensor("x", []int{1}, []float32{1, 2})}, nil, `tensor "x": data has 8 bytes`},
		{"scalar", []Tensor{{Name: "s", DType: F32, Data: nil}}, nil, `tensor "s": data has 0 bytes, but shape [] of F32 needs 4`},
		{"dup", []Tensor{F32Tensor("x", nil, []float32{1}), F32Tensor("x", nil, []float32{1})}, nil, `tensor "x": duplicate name`},
		{"reserved", []Tensor{F32Tensor("__metadata__", nil, []float32{1})}, nil, "reserved"},
		{"dtype", []Tensor{{Name: "x", DType: "F8", Data: []byte{1}}}, nil, `unknown dtype "F8"`},
		{"negative", []Tensor{{Name: "x", DType: U8, Shape: []int{-1}}}, nil, "dimension 0 is negative"},
		{"overflow", []Tensor{{Name: "x", DType: U8, Shape: []int{math.MaxInt / 2, 3}}}, nil, "overflows"},
		{"bytes overflow", []Tensor{{Name: "x", DType: F64, Shape: []int{math.MaxInt / 4}}}, nil, "byte size overflows"},
		{"utf8", []Tensor{F32Tensor("\xff", nil, []float32{1})}, nil, "UTF-8"},
		{"meta utf8", nil, map[string]string{"k": "\xff"}, `metadata "k"`},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		err := Encode(&buf, tc.tensors, tc.meta)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing", tc.name, buf.Len())
		}
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	good := []Tensor{F32Tensor("w", []int{2}, []float32{1, 2})}
	if err := Write(path, good, map[string]string{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	checkUnchanged := func(t *testing.T) {
		t.Helper()
		after, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(before, after) {
			t.Fatalf("old file changed (err %v)", err)
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Fatalf("directory holds %q, want only the old file", names)
		}
	}

	t.Run("invalid tensor", func(t *testing.T) {
		bad := []Tensor{
			F32Tensor("a", []int{1000}, make([]float32, 1000)),
			{Name: "b", DType: F32, Shape: []int{4}, Data: make([]byte, 15)}, // length mismatch
		}
		err := Write(path, bad, nil)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `tensor "b"`) {
			t.Fatalf("err = %v, want one naming %s and tensor b", err, path)
		}
		checkUnchanged(t)
	})
	t.Run("failure after data written", func(t *testing.T) {
		var sawTmp string
		defer atomicfs.SetTestHook(func(step atomicfs.Step, tmp string) error {
			if step != atomicfs.StepSynced {
				return nil
			}
			sawTmp = tmp
			if st, err := os.Stat(tmp); err != nil || st.Size() == 0 {
				t.Errorf("temp file %s: %v", tmp, err)
			}
			return errors.New("simulated crash")
		})()
		err := Write(path, []Tensor{F32Tensor("w", []int{3}, []float32{7, 8, 9})}, nil)
		if err == nil || !strings.Contains(err.Error(), "simulated crash") {
			t.Fatalf("err = %v", err)
		}
		if filepath.Dir(sawTmp) != dir {
			t.Errorf("temp file %s not in the target directory", sawTmp)
		}
		checkUnchanged(t)
	})
	t.Run("unwritable directory", func(t *testing.T) {
		err := Write(filepath.Join(dir, "missing", "x.safetensors"), good, nil)
		if err == nil {
			t.Fatal("want error")
		}
		checkUnchanged(t)
	})
	t.Run("success replaces and keeps mode", func(t *testing.T) {
		if err := Write(path, []Tensor{F32Tensor("w", []int{3}, []float32{7, 8, 9})}, nil); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		v, _, err := f.Float32("w")
		if err != nil || !slices.Equal(v, []float32{7, 8, 9}) {
			t.Fatalf("read back %v, %v", v, err)
		}
		if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o640 {
			t.Errorf("mode = %v, want 0640 kept", st.Mode().Perm())
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("leftover files: %v", ents)
		}
	})
}

func TestParseRejects(t *testing.T) {
	huge := binary.LittleEndian.AppendUint64(nil, 1<<62)
	tooBig := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1)
	lying := binary.LittleEndian.AppendUint64(nil, 64)
	lying = append(lying, `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`...)
	tests := []struct {
		name   string
		data   []byte
		tensor string // want in FormatError.Tensor
		want   string // want in the message
	}{
		{"empty", nil, "", "too short"},
		{"7 bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "", "too short"},
		{"huge header length", huge, "", "exceeds the limit"},
		{"header over limit", tooBig, "", "exceeds the limit"},
		{"header longer than file", lying, "", "exceeds the 54 bytes"},
		{"not json", rawFile(`{"a":`, 0), "", "not a JSON object"},
		{"json array", rawFile(`[1,2]`, 0), "", "instead of an object"},
		{"json null", rawFile(`null`, 0), "", "instead of an object"},
		{"empty header", rawFile(``, 0), "", "not a JSON object"},
		{"trailing data", rawFile(`{} {}`, 0), "", "trailing data"},
		{"trailing garbage", rawFile(`{}x`, 0), "", "after the object"},
		{"invalid utf8", rawFile("{\"\xff\":1}", 0), "", "UTF-8"},
		{"duplicate tensor", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2), "", `duplicate key "a"`},
		{"metadata not object", rawFile(`{"__metadata__":"x"}`, 0), "__metadata__", "object of strings"},
		{"metadata number", rawFile(`{"__metadata__":{"k":1}}`, 0), "__metadata__", `value of "k" is 1, want a string`},
		{"metadata nested", rawFile(`{"__metadata__":{"k":{"x":"y"}}}`, 0), "__metadata__", "want a string"},
		{"entry not object", rawFile(`{"a":[1]}`, 0), "a", "not a JSON object"},
		{"entry null", rawFile(`{"a":null}`, 0), "a", "not a JSON object"},
		{"missing key", rawFile(`{"a":{"dtype":"U8","shape":[1]}}`, 1), "a", `needs "dtype", "shape" and "data_offsets"`},
		{"duplicate field", rawFile(`{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1), "a", "duplicate key"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, 1), "a", `unknown dtype "F8_E4M3"`},
		{"lower-case dtype", rawFile(`{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, 4), "a", `unknown dtype "f32"`},
		{"dtype number", rawFile(`{"a":{"dtype":3,"shape":[1],"data_offsets":[0,1]}}`, 1), "a", "want a string"},
		{"shape not array", rawFile(`{"a":{"dtype":"U8","shape":1,"data_offsets":[0,1]}}`, 1), "a", "not an array"},
		{"shape null", rawFile(`{"a":{"dtype":"U8","shape":null,"data_offsets":[0,1]}}`, 1), "a", "not an array"},
		{"negative dim", rawFile(`{"a":{"dtype":"U8","shape":[2,-1],"data_offsets":[0,0]}}`, 0), "a", "dimension 1 is negative"},
		{"fractional dim", rawFile(`{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}`, 1), "a", "want an integer"},
		{"exponent dim", rawFile(`{"a":{"dtype":"U8","shape":[1e0],"data_offsets":[0,1]}}`, 1), "a", "want an integer"},
		{"string dim", rawFile(`{"a":{"dtype":"U8","shape":["1"],"data_offsets":[0,1]}}`, 1), "a", "want an integer"},
		{"dim too big", rawFile(`{"a":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,1]}}`, 1), "a", "want an integer"},
		{"numel overflow", rawFile(`{"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, 0), "a", "number of elements overflows"},
		{"bytes overflow", rawFile(`{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}`, 0), "a", "byte size overflows"},
		{"offsets wrong length", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}`, 1), "a", "has 1 elements"},
		{"offsets negative", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, 1), "a", "negative"},
		{"offsets reversed", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}`, 1), "a", "end before they begin"},
		{"offsets past end", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), "a", "extend past the 4-byte data section"},
		{"offsets huge", rawFile(`{"a":{"dtype":"U8","shape":[9223372036854775807],"data_offsets":[0,9223372036854775807]}}`, 4), "a", "extend past"},
		{"size mismatch", rawFile(`{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}`, 16), "a", "span 12 bytes, but shape [2 2] of F32 needs 16"},
		{"scalar needs one element", rawFile(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,0]}}`, 4), "a", "needs 4"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}`, 8), "b", `overlap tensor "a"`},
		{"same range", rawFile(`{"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, 4), "b", `overlap tensor "a"`},
		{"truncated data", rawFile(`{"a":{"dtype":"I64","shape":[4],"data_offsets":[0,32]}}`, 31), "a", "file truncated"},
	}
	for _, tc := range tests {
		f, err := Parse(tc.data)
		if err == nil {
			t.Errorf("%s: Parse succeeded: %v", tc.name, f.Names())
			continue
		}
		if f != nil {
			t.Errorf("%s: non-nil File on error", tc.name)
		}
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v (%T) is not a *FormatError / ErrInvalid", tc.name, err, err)
			continue
		}
		if fe.Tensor != tc.tensor || !strings.Contains(err.Error(), tc.want) || fe.Source != inMemory {
			t.Errorf("%s: err = %q (tensor %q), want tensor %q and %q", tc.name, err, fe.Tensor, tc.tensor, tc.want)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		tensor string
		want   []int64 // Int64 of tensor
	}{
		{"empty object", rawFile(`{}`, 0), "", nil},
		{"metadata only, null", rawFile(`{"__metadata__":null}`, 0), "", nil},
		{"gap and trailing bytes", rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}`, 9), "a", []int64{3, 4}},
		{"out of order", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 2), "b", []int64{0}},
		{"extra keys ignored", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":[]}}`, 1), "a", []int64{0}},
		{"whitespace", rawFile(" {\n\"a\" : {\"dtype\":\"U8\", \"shape\":[ 1 ],\"data_offsets\":[0, 1]}}\n", 1), "a", []int64{0}},
		{"empty tensor inside another", rawFile(`{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"e":{"dtype":"I32","shape":[0],"data_offsets":[2,2]}}`, 4), "e", []int64{}},
		{"huge dims with zero", rawFile(`{"a":{"dtype":"U8","shape":[9223372036854775807,0,9223372036854775807],"data_offsets":[0,0]}}`, 0), "a", []int64{}},
		{"scalar", rawFile(`{"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`, 1), "a", []int64{0}},
	}
	for _, tc := range tests {
		f, err := Parse(tc.data)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.tensor != "" {
			got, _, err := f.Int64(tc.tensor)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("%s: Int64 = %v, %v; want %v", tc.name, got, err, tc.want)
			}
		}
	}
}

func TestOpenErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(path, rawFile(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}`, 8), 0o644)
	_, err := Open(path)
	want := fmt.Sprintf(`safetensors: %s: tensor "w": data_offsets [0, 12] extend past the 8-byte data section`, path)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v\nwant prefix %s", err, want)
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: err = %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	if _, err := Open(empty); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty file: err = %v", err)
	}
}

func TestLookupErrors(t *testing.T) {
	var tensors []Tensor
	for _, n := range []string{"h.0.attn.w", "h.0.attn.b", "h.0.mlp.w", "h.1.attn.w", "h.1.mlp.w", "h.2.mlp.w", "wte", "wpe"} {
		tensors = append(tensors, F32Tensor(n, []int{1}, []float32{1}))
	}
	f, err := Parse(encodeBytes(t, tensors, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.Float32("h.0.attn")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{`"h.0.attn"`, "8 tensors", `"h.0.attn.b"`, `"h.0.attn.w"`, "..."} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if _, _, err := f.Int64("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Int64: %v", err)
	}
	if _, _, err := f.Raw("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Raw: %v", err)
	}
	if _, ok := f.Info("nope"); ok {
		t.Error("Info(nope) ok")
	}
	empty, _ := Parse(rawFile(`{}`, 0))
	if _, _, err := empty.Float32("x"); err == nil || !strings.Contains(err.Error(), "no tensors") {
		t.Errorf("empty: %v", err)
	}

	// Returned slices and maps are copies.
	names := f.Names()
	names[0] = "mutated"
	info, _ := f.Info("wte")
	info.Shape[0] = 99
	f.Metadata()["x"] = "y"
	if f.Names()[0] == "mutated" || f.infos["wte"].Shape[0] != 1 || len(f.Metadata()) != 0 {
		t.Error("accessors expose internal state")
	}

	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := f.Float32("wte"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, _, err := f.Raw("wte"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if len(f.Names()) != 8 {
		t.Error("Names after Close")
	}
}

func TestU64Overflow(t *testing.T) {
	f, err := Parse(encodeBytes(t, []Tensor{{Name: "u", DType: U64, Shape: []int{2}, Data: le([]uint64{1, 1 << 63})}}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Int64("u"); err == nil || !strings.Contains(err.Error(), "element 1") {
		t.Errorf("err = %v", err)
	}
}

func TestRawIsClipped(t *testing.T) {
	f, err := Parse(encodeBytes(t, []Tensor{
		{Name: "a", DType: U8, Shape: []int{2}, Data: []byte{1, 2}},
		{Name: "b", DType: U8, Shape: []int{2}, Data: []byte{3, 4}},
	}, nil))
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := f.Raw("a")
	_ = append(a, 9)
	b, _, _ := f.Raw("b")
	if cap(a) != 2 || !bytes.Equal(b, []byte{3, 4}) {
		t.Errorf("cap %d, b = %v", cap(a), b)
	}
}

// TestMemory checks that Open maps instead of copying the data section and
// that Float32 allocates only what it returns.
func TestMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 64 MiB file")
	}
	const n = 16 << 20 // 64 MiB of F32
	path := filepath.Join(t.TempDir(), "big.safetensors")
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32(i)
	}
	half := make([]byte, 2*1024)
	if err := Write(path, []Tensor{F32Tensor("big", []int{n}, vals), {Name: "h", DType: F16, Shape: []int{1024}, Data: half}}, nil); err != nil {
		t.Fatal(err)
	}
	vals = nil
	runtime.GC()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, _, err := f.Raw("big")
	if err != nil || len(raw) != 4*n {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; runtime.GOOS == "linux" && d > 1<<20 {
		t.Errorf("Open+Raw allocated %d bytes; the data section must be mapped, not copied", d)
	}

	allocs := testing.AllocsPerRun(3, func() {
		if _, _, err := f.Float32("h"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 { // the values and the shape
		t.Errorf("Float32 made %v allocations, want 2", allocs)
	}
	runtime.ReadMemStats(&before)
	got, _, err := f.Float32("big")
	runtime.ReadMemStats(&after)
	if err != nil || got[n-1] != n-1 {
		t.Fatal(err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 4*n+4096 {
		t.Errorf("Float32 allocated %d bytes for a %d-byte result", d, 4*n)
	}
}

// TestTruncatedAfterOpen: a file shrunk on disk after Open makes the mapping
// fault; Float32 must report that as an error instead of crashing.
func TestTruncatedAfterOpen(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("relies on SIGBUS from a truncated mapping")
	}
	path := filepath.Join(t.TempDir(), "shrink.safetensors")
	if err := Write(path, []Tensor{F32Tensor("w", []int{1 << 16}, make([]float32, 1<<16))}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.unmap == nil {
		t.Skip("file was not memory-mapped")
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Float32("w"); err == nil || !strings.Contains(err.Error(), "memory fault") {
		t.Errorf("err = %v, want a memory fault error", err)
	}
	if _, _, err := f.Int64("w"); !errors.Is(err, ErrDType) {
		t.Errorf("Int64: %v", err)
	}
}
