package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. Parse must never panic; when it
// accepts the input, every tensor must be readable with the promised sizes,
// and re-encoding the tensors must give a file that parses to the same
// tensors and metadata.
func FuzzParse(f *testing.F) {
	// The seeds live in testdata/fuzz/FuzzParse (see seedCorpus).
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			if file != nil {
				t.Fatal("non-nil File with error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		checkLayout(t, file, len(data))
		var tensors []Tensor
		for _, name := range file.Names() {
			raw, info, err := file.Raw(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) != info.NumElements()*info.DType.Size() {
				t.Fatalf("%q: %d bytes for %v of %s", name, len(raw), info.Shape, info.DType)
			}
			var n int
			switch {
			case info.DType.IsFloat():
				v, _, err := file.Float32(name)
				if err != nil {
					t.Fatal(err)
				}
				n = len(v)
			default:
				v, _, err := file.Int64(name)
				if err != nil && info.DType != U64 {
					t.Fatal(err)
				}
				n = len(v)
				if err != nil {
					n = info.NumElements()
				}
			}
			if n != info.NumElements() {
				t.Fatalf("%q: %d values, want %d", name, n, info.NumElements())
			}
			tensors = append(tensors, Tensor{Name: name, DType: info.DType, Shape: info.Shape, Data: raw})
		}
		var buf bytes.Buffer
		if err := Encode(&buf, tensors, file.Metadata()); err != nil {
			t.Fatalf("re-encoding an accepted file: %v", err)
		}
		again, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("re-parsing our own encoding: %v", err)
		}
		if !slices.Equal(again.Names(), file.Names()) || !maps.Equal(again.Metadata(), file.Metadata()) {
			t.Fatal("round trip changed names or metadata")
		}
		for _, tn := range tensors {
			raw, info, _ := again.Raw(tn.Name)
			if !bytes.Equal(raw, tn.Data) || info.DType != tn.DType || !slices.Equal(info.Shape, tn.Shape) {
				t.Fatalf("%q: round trip changed the tensor", tn.Name)
			}
		}
	})
}

// checkLayout re-checks, independently of the parser, what an accepted file
// promises: every tensor's byte range lies inside the data section, holds
// exactly numel*dtype size bytes (numel computed without overflow), and no
// two non-empty ranges share a byte.
func checkLayout(t *testing.T, file *File, fileLen int) {
	t.Helper()
	body := int64(fileLen) - 8 - int64(binary.LittleEndian.Uint64(file.all[:8]))
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	for _, name := range file.Names() {
		info, _ := file.Info(name)
		b, e := info.Offsets[0], info.Offsets[1]
		if b < 0 || e < b || e > body {
			t.Fatalf("%q: offsets [%d, %d] outside the %d-byte data section", name, b, e, body)
		}
		numel := new(big.Int).SetInt64(1)
		for _, d := range info.Shape {
			if d < 0 {
				t.Fatalf("%q: negative dimension in %v", name, info.Shape)
			}
			numel.Mul(numel, big.NewInt(int64(d)))
		}
		want := numel.Mul(numel, big.NewInt(int64(info.DType.Size())))
		if want.Cmp(big.NewInt(e-b)) != 0 {
			t.Fatalf("%q: %d bytes for shape %v of %s (needs %s)", name, e-b, info.Shape, info.DType, want)
		}
		if e > b {
			spans = append(spans, span{name, b, e})
		}
	}
	slices.SortFunc(spans, func(x, y span) int { return cmp.Compare(x.begin, y.begin) })
	for i := 1; i < len(spans); i++ {
		if spans[i].begin < spans[i-1].end {
			t.Fatalf("%q [%d, %d] overlaps %q [%d, %d]", spans[i].name, spans[i].begin, spans[i].end,
				spans[i-1].name, spans[i-1].begin, spans[i-1].end)
		}
	}
}

type seed struct {
	name string
	data []byte
}

// seedCorpus lists the hand-made inputs that are also stored, one per file,
// in testdata/fuzz/FuzzParse (regenerate with -gencorpus).
func seedCorpus() []seed {
	valid := func(tensors []Tensor, meta map[string]string) []byte {
		var buf bytes.Buffer
		if err := Encode(&buf, tensors, meta); err != nil {
			panic(err)
		}
		return buf.Bytes()
	}
	all := valid([]Tensor{
		F32Tensor("f32", []int{2, 2}, []float32{1, 2, 3, 4}),
		{Name: "f16", DType: F16, Shape: []int{2}, Data: []byte{0, 0x3c, 1, 0}},
		{Name: "bf16", DType: BF16, Shape: []int{1}, Data: []byte{0x80, 0x3f}},
		{Name: "f64", DType: F64, Shape: []int{1}, Data: make([]byte, 8)},
		I64Tensor("i64", []int{1}, []int64{-1}),
		{Name: "i32", DType: I32, Shape: []int{1}, Data: make([]byte, 4)},
		{Name: "i16", DType: I16, Shape: []int{1}, Data: make([]byte, 2)},
		{Name: "i8", DType: I8, Shape: []int{1}, Data: []byte{0xff}},
		{Name: "u8", DType: U8, Shape: []int{2}, Data: []byte{1, 2}},
		{Name: "bool", DType: BOOL, Shape: []int{1}, Data: []byte{1}},
		{Name: "u16", DType: U16, Shape: []int{1}, Data: make([]byte, 2)},
		{Name: "u32", DType: U32, Shape: []int{1}, Data: make([]byte, 4)},
		{Name: "u64", DType: U64, Shape: []int{1}, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0x80}},
	}, map[string]string{"format": "pt", "note": "seed"})
	py, err := os.ReadFile("testdata/python.safetensors")
	if err != nil {
		py = all
	}
	return []seed{
		{"valid_all_dtypes", all},
		{"valid_python", py},
		{"valid_empty", valid(nil, nil)},
		{"valid_scalar_and_empty", valid([]Tensor{F32Tensor("s", nil, []float32{3}), {Name: "e", DType: I64, Shape: []int{0, 5}}}, nil)},
		{"valid_gap_out_of_order", rawFile(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[6,7]},"a":{"dtype":"I16","shape":[2],"data_offsets":[1,5]}}`, 9)},
		{"truncated_data", all[:len(all)-3]},
		{"truncated_header", all[:20]},
		{"truncated_length", all[:5]},
		{"lying_header_length", append(binary8(1000), all[8:]...)},
		{"huge_header_length", append(binary8(1<<63), all[8:]...)},
		{"header_length_limit", append(binary8(MaxHeaderSize+1), all[8:]...)},
		{"lying_size", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8)},
		{"offsets_past_end", rawFile(`{"a":{"dtype":"U8","shape":[8],"data_offsets":[4,12]}}`, 8)},
		{"overlapping_offsets", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}}`, 8)},
		{"negative_dim", rawFile(`{"a":{"dtype":"U8","shape":[-2,-4],"data_offsets":[0,8]}}`, 8)},
		{"negative_offset", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, 8)},
		{"numel_overflow", rawFile(`{"a":{"dtype":"U8","shape":[4294967296,4294967297],"data_offsets":[0,0]}}`, 8)},
		{"unknown_dtype", rawFile(`{"a":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[0,1]}}`, 1)},
		{"metadata_not_strings", rawFile(`{"__metadata__":{"a":[1]},"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1)},
		{"duplicate_key", rawFile(`{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1)},
		{"not_json", rawFile(`{"t":{"dtype":`, 1)},
		{"deeply_nested", rawFile(`{"t":`+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)+`}`, 0)},
		{"offsets_float", rawFile(`{"t":{"dtype":"U8","shape":[1],"data_offsets":[0.0,1]}}`, 1)},
		{"offsets_null", rawFile(`{"t":{"dtype":"U8","shape":[1],"data_offsets":null}}`, 1)},
		{"offsets_reversed", rawFile(`{"t":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}`, 1)},
		{"offsets_overflow", rawFile(`{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551616]}}`, 1)},
		{"offsets_three", rawFile(`{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, 1)},
		{"dtype_size_mismatch", rawFile(`{"t":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, 8)},
		{"bytes_overflow", rawFile(`{"t":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}`, 0)},
		{"huge_dims_with_zero", rawFile(`{"t":{"dtype":"U8","shape":[9223372036854775807,0],"data_offsets":[0,0]}}`, 0)},
		{"same_start_empty_and_full", rawFile(`{"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4)},
		{"scalar_empty_offsets", rawFile(`{"t":{"dtype":"F32","shape":[],"data_offsets":[0,0]}}`, 4)},
		{"header_not_utf8", rawFile("{\"\xff\":{}}", 0)},
		{"header_nul_bytes", append(binary8(8), make([]byte, 8)...)},
		{"metadata_escaped_surrogate", rawFile(`{"__metadata__":{"k":"\udc00"}}`, 0)},
		{"metadata_null", rawFile(`{"__metadata__":null,"t":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`, 1)},
		{"trailing_after_object", rawFile(`{}{}`, 0)},
		{"entry_extra_keys", rawFile(`{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":{"y":[1]}}}`, 1)},
	}
}

func binary8(n uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(n >> (8 * i))
	}
	return b
}

var genCorpus = flag.Bool("gencorpus", false, "rewrite testdata/fuzz/FuzzParse from seedCorpus")

func TestGenerateFuzzCorpus(t *testing.T) {
	if !*genCorpus {
		t.Skip("run with -gencorpus to regenerate testdata/fuzz/FuzzParse")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range seedCorpus() {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s.data)
		if err := os.WriteFile(filepath.Join(dir, "seed_"+s.name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
