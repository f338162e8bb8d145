package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"unsafe"
)

// hostLittleEndian reports whether the machine stores integers
// little-endian, in which case F32/I64 data can be copied byte for byte.
var hostLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// guardFault turns a memory fault while reading the mapping (SIGBUS after
// another process truncated the file) into an error stored in *err. It must
// be deferred together with debug.SetPanicOnFault(true).
func (f *File) guardFault(op, name string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if fe, ok := r.(interface{ Addr() uintptr }); ok {
		*err = fmt.Errorf("safetensors: %s: tensor %q: %s: memory fault reading the mapped data (file changed on disk?): %v", f.source, name, op, fe)
		return
	}
	panic(r)
}

// Float32 returns the values of the tensor called name converted to float32,
// as a new slice, together with a copy of its shape. F32 is copied, F16 and
// BF16 are converted exactly (subnormals, ±Inf and NaN included) and F64 is
// rounded to nearest (values beyond the float32 range become ±Inf). Nothing
// else is allocated.
//
// Errors: an unknown name gives an error wrapping [ErrNotFound] that lists a
// few available names; a non-float dtype gives one wrapping [ErrDType]; after
// Close, one wrapping [ErrClosed]; a fault while reading the mapping (the
// file was truncated on disk after Open) is returned as an error instead of
// crashing. On error the slices are nil.
func (f *File) Float32(name string) (values []float32, shape []int, err error) {
	info, raw, err := f.lookup("Float32", name)
	if err != nil {
		return nil, nil, err
	}
	size := info.DType.Size()
	if size == 0 {
		size = 1
	}
	out := make([]float32, len(raw)/size)
	if shape, err = f.Float32Into(name, out); err != nil {
		return nil, nil, err
	}
	return out, shape, nil
}

// Float32Into converts the tensor called name to float32 like Float32, but
// into dst, which must hold exactly its number of elements, so a loader can
// fill its own buffers without an intermediate copy. It returns the shape,
// and the errors Float32 does, plus one when dst has the wrong length.
func (f *File) Float32Into(name string, dst []float32) (shape []int, err error) {
	info, raw, err := f.lookup("Float32", name)
	if err != nil {
		return nil, err
	}
	if !info.DType.IsFloat() {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: Float32: %w %s (want F32, F16, BF16 or F64; use Int64 for integer tensors)",
			f.source, name, ErrDType, info.DType)
	}
	n := len(raw) / info.DType.Size()
	if len(dst) != n {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: Float32Into: destination holds %d values, the tensor %d", f.source, name, len(dst), n)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer f.guardFault("Float32", name, &err)

	// Convert in chunks and, for a memory-mapped file, drop each chunk's
	// pages once converted: the source of a large tensor is never resident
	// all at once next to its float32 copy.
	size := info.DType.Size()
	for lo := 0; lo < len(raw); lo += convertChunk {
		hi := min(lo+convertChunk, len(raw))
		convertFloat32(dst[lo/size:hi/size], raw[lo:hi], info.DType)
		if f.unmap != nil {
			dropWholePages(raw[lo:hi])
		}
	}
	return slices.Clone(info.Shape), nil
}

// convertChunk is how many source bytes Float32Into converts before it
// drops their pages.
const convertChunk = 4 << 20

// convertFloat32 converts raw, little-endian values of dtype dt, into out.
func convertFloat32(out []float32, raw []byte, dt DType) {
	switch dt {
	case F32:
		if !copyHostOrder(out, raw) {
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		}
	case F16:
		for i := range out {
			out[i] = F16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BF16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	}
}

// dropWholePages drops the memory-mapped pages that lie entirely inside b.
func dropWholePages(b []byte) {
	if len(b) == 0 {
		return
	}
	page := uintptr(os.Getpagesize())
	addr := uintptr(unsafe.Pointer(&b[0]))
	lo := (addr + page - 1) / page * page
	hi := (addr + uintptr(len(b))) / page * page
	if hi > lo {
		dropPages(b[lo-addr : hi-addr])
	}
}

// Int64 returns the values of the tensor called name converted to int64, as
// a new slice, together with a copy of its shape. I64, I32, I16, I8, U8, U16
// and U32 convert exactly; BOOL gives 0 for a zero byte and 1 otherwise; U64
// converts exactly when every value is at most math.MaxInt64.
//
// Errors: an unknown name gives an error wrapping [ErrNotFound] that lists a
// few available names; a floating-point dtype gives one wrapping
// [ErrDType]; a U64 value above math.MaxInt64 gives an error naming its
// index; after Close, an error wrapping [ErrClosed]; a fault while reading
// the mapping is returned as an error. On error the slices are nil.
func (f *File) Int64(name string) (values []int64, shape []int, err error) {
	info, raw, err := f.lookup("Int64", name)
	if err != nil {
		return nil, nil, err
	}
	if !info.DType.IsInt() {
		return nil, nil, fmt.Errorf("safetensors: %s: tensor %q: Int64: %w %s (want an integer or BOOL dtype; use Float32 for float tensors)",
			f.source, name, ErrDType, info.DType)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer f.guardFault("Int64", name, &err)

	n := len(raw) / info.DType.Size()
	out := make([]int64, n)
	switch info.DType {
	case I64:
		if !copyHostOrder(out, raw) {
			for i := range out {
				out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
	case U64:
		for i := range out {
			v := binary.LittleEndian.Uint64(raw[8*i:])
			if v > math.MaxInt64 {
				return nil, nil, fmt.Errorf("safetensors: %s: tensor %q: Int64: U64 element %d = %d overflows int64", f.source, name, i, v)
			}
			out[i] = int64(v)
		}
	default: // the integer dtypes of 1 to 4 bytes, and BOOL
		get, size := intDecoders[info.DType], info.DType.Size()
		for i := range out {
			out[i] = get(raw[size*i:])
		}
	}
	return out, slices.Clone(info.Shape), nil
}

// intDecoders read one little-endian element of the integer dtypes of 1 to
// 4 bytes, and of BOOL (1 for a non-zero byte), as an int64.
var intDecoders = map[DType]func(b []byte) int64{
	I32:  func(b []byte) int64 { return int64(int32(binary.LittleEndian.Uint32(b))) },
	U32:  func(b []byte) int64 { return int64(binary.LittleEndian.Uint32(b)) },
	I16:  func(b []byte) int64 { return int64(int16(binary.LittleEndian.Uint16(b))) },
	U16:  func(b []byte) int64 { return int64(binary.LittleEndian.Uint16(b)) },
	I8:   func(b []byte) int64 { return int64(int8(b[0])) },
	U8:   func(b []byte) int64 { return int64(b[0]) },
	BOOL: func(b []byte) int64 { return int64(min(b[0], 1)) },
}

// copyHostOrder copies raw, little-endian elements of out's type, into out
// byte for byte when the host is little-endian and out is not empty, and
// reports whether it did; otherwise the caller decodes them one by one.
func copyHostOrder[T float32 | int64](out []T, raw []byte) bool {
	if !hostLittleEndian || len(out) == 0 {
		return false
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), len(raw)), raw)
	return true
}
