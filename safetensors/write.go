package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/govene/govene/internal/atomicfs"
)

// Tensor is one tensor to be written: Data holds numel*DType.Size() bytes,
// little-endian, row-major. An empty Shape is a scalar (one element).
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// F32Tensor returns an F32 Tensor holding a little-endian copy of data. It
// does not check shape against len(data); [Write] and [Encode] reject a
// mismatch.
func F32Tensor(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 4*len(data))
	if hostLittleEndian && len(data) > 0 {
		copy(b, unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), len(b)))
	} else {
		for i, v := range data {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
	}
	return Tensor{Name: name, DType: F32, Shape: slices.Clone(shape), Data: b}
}

// I64Tensor returns an I64 Tensor holding a little-endian copy of data. It
// does not check shape against len(data); [Write] and [Encode] reject a
// mismatch.
func I64Tensor(name string, shape []int, data []int64) Tensor {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: I64, Shape: slices.Clone(shape), Data: b}
}

// tensorHeader is one header entry; field order matches the Python library.
type tensorHeader struct {
	DType       DType    `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// prepare validates tensors and metadata and returns the padded header and
// the tensors in data order (decreasing element size, then name).
func prepare(tensors []Tensor, metadata map[string]string) ([]byte, []Tensor, error) {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("tensor %q: %s", t.Name, fmt.Sprintf(format, args...))
		}
		if t.Name == metadataKey {
			return nil, nil, bad("name is reserved for metadata")
		}
		if !utf8ValidString(t.Name) {
			return nil, nil, bad("name is not valid UTF-8")
		}
		if seen[t.Name] {
			return nil, nil, bad("duplicate name")
		}
		seen[t.Name] = true
		size := t.DType.Size()
		if size == 0 {
			return nil, nil, bad("unknown dtype %q (known: %s)", t.DType, knownDTypes)
		}
		numel := 1
		for i, d := range t.Shape {
			if d < 0 {
				return nil, nil, bad("shape %v: dimension %d is negative", t.Shape, i)
			}
		}
		if !slices.Contains(t.Shape, 0) {
			for _, d := range t.Shape {
				if numel > math.MaxInt/d {
					return nil, nil, bad("shape %v: number of elements overflows int", t.Shape)
				}
				numel *= d
			}
		} else {
			numel = 0
		}
		if numel > math.MaxInt/size {
			return nil, nil, bad("shape %v of %s: byte size overflows int", t.Shape, t.DType)
		}
		if want := numel * size; len(t.Data) != want {
			return nil, nil, bad("data has %d bytes, but shape %v of %s needs %d", len(t.Data), t.Shape, t.DType, want)
		}
	}
	for k, v := range metadata {
		if !utf8ValidString(k) || !utf8ValidString(v) {
			return nil, nil, fmt.Errorf("metadata %q: key or value is not valid UTF-8", k)
		}
	}

	order := slices.Clone(tensors)
	slices.SortFunc(order, func(a, b Tensor) int {
		if c := b.DType.Size() - a.DType.Size(); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	hdr := make(map[string]any, len(order)+1)
	var off int64
	for _, t := range order {
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		hdr[t.Name] = tensorHeader{t.DType, shape, [2]int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	if len(metadata) > 0 {
		hdr[metadataKey] = metadata
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // map keys come out sorted
	enc.SetEscapeHTML(false)
	if err := enc.Encode(hdr); err != nil {
		return nil, nil, fmt.Errorf("encoding header: %w", err)
	}
	header := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	for len(header)%8 != 0 {
		header = append(header, ' ')
	}
	if len(header) > MaxHeaderSize {
		return nil, nil, fmt.Errorf("header of %d bytes exceeds the limit of %d", len(header), MaxHeaderSize)
	}
	return header, order, nil
}

func utf8ValidString(s string) bool { return utf8.ValidString(s) }

// Encode writes tensors and metadata (nil or empty for none) to w in the
// safetensors format: header keys sorted, header padded with spaces to a
// multiple of 8 bytes, tensors ordered by decreasing element size then name.
// Everything is validated before the first byte is written: a duplicate or
// reserved ("__metadata__") name, an unknown dtype, a negative dimension or
// Data whose length is not numel*DType.Size() gives an error naming the
// tensor and w is untouched. Errors from w are returned wrapped.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, order, err := prepare(tensors, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := writeTo(w, header, order); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

func writeTo(w io.Writer, header []byte, order []Tensor) error {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	for _, t := range order {
		if _, err := w.Write(t.Data); err != nil {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
	}
	return nil
}

// Write saves tensors and metadata (nil or empty for none) to path in the
// layout described on [Encode]. It is atomic (internal/atomicfs): the data
// goes to a temporary file in the same directory, which is fsynced and then
// renamed over path (keeping an existing file's permission bits, 0644
// otherwise), and the directory is fsynced; so on any error, or if the
// process is killed, an existing file at path is left byte-identical, and
// the temporary file is removed (a killed writer's, by the next write).
//
// Errors: invalid tensors (see [Encode]) are reported, naming path and the
// tensor, before any file is created; I/O errors are returned wrapped with
// path.
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	header, order, err := prepare(tensors, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("safetensors: write %s: target exists and is not a regular file (%s)", path, st.Mode().Type())
	}
	err = atomicfs.WriteFileFunc(path, 0o644, func(w io.Writer) error { return writeTo(w, header, order) })
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}
