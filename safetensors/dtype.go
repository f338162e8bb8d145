package safetensors

import "math"

// DType is a safetensors element type, spelled as in the file header
// ("F32", "BF16", ...).
type DType string

// The element types this package understands. A header naming any other
// dtype (for example "F8_E4M3") is rejected by [Open] and [Parse].
const (
	F32  DType = "F32"  // IEEE 754 binary32
	F16  DType = "F16"  // IEEE 754 binary16
	BF16 DType = "BF16" // bfloat16: the upper 16 bits of a binary32
	F64  DType = "F64"  // IEEE 754 binary64
	I64  DType = "I64"  // signed 64-bit integer
	I32  DType = "I32"  // signed 32-bit integer
	I16  DType = "I16"  // signed 16-bit integer
	I8   DType = "I8"   // signed 8-bit integer
	U8   DType = "U8"   // unsigned 8-bit integer
	BOOL DType = "BOOL" // one byte per element, 0 is false, anything else true
	U16  DType = "U16"  // unsigned 16-bit integer
	U32  DType = "U32"  // unsigned 32-bit integer
	U64  DType = "U64"  // unsigned 64-bit integer
)

// Size returns the number of bytes of one element of d, or 0 if d is not
// one of the dtypes this package knows.
func (d DType) Size() int {
	switch d {
	case F64, I64, U64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case I8, U8, BOOL:
		return 1
	}
	return 0
}

// Valid reports whether d is one of the dtypes this package knows; it
// returns false for anything else, including "".
func (d DType) Valid() bool { return d.Size() != 0 }

// IsFloat reports whether d is a floating-point dtype that [File.Float32]
// converts (F32, F16, BF16, F64); false for everything else.
func (d DType) IsFloat() bool {
	switch d {
	case F32, F16, BF16, F64:
		return true
	}
	return false
}

// IsInt reports whether d is an integer or boolean dtype that [File.Int64]
// converts (I64, I32, I16, I8, U8, BOOL, U16, U32, U64); false otherwise.
func (d DType) IsInt() bool {
	switch d {
	case I64, I32, I16, I8, U8, BOOL, U16, U32, U64:
		return true
	}
	return false
}

// knownDTypes is used in error messages.
const knownDTypes = "F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL, U16, U32, U64"

// F16ToF32 converts the IEEE 754 binary16 bit pattern h to float32. The
// conversion is exact for every input: subnormals are normalised, ±0 and
// ±Inf keep their sign, and NaNs stay NaN with their sign and payload
// (shifted into the top of the float32 mantissa), so quiet NaNs stay quiet.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign) // ±0
		}
		// Subnormal: mant * 2^-24. Normalise so the leading 1 reaches bit 10.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// BF16ToF32 converts the bfloat16 bit pattern b to float32. It is exact
// (a shift into the upper half of the binary32 bit pattern) for every input,
// including subnormals, ±Inf and NaN.
func BF16ToF32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }
