// Package safetensors reads and writes the safetensors tensor file format
// (https://github.com/huggingface/safetensors) robustly.
//
// # Format
//
// A safetensors file is an 8-byte little-endian unsigned header length N,
// followed by N bytes of UTF-8 JSON (an object mapping tensor names to
// {"dtype", "shape", "data_offsets"} plus an optional "__metadata__" object of
// string values), followed by the data section. data_offsets are [begin, end)
// byte offsets relative to the start of the data section; tensors are stored
// little-endian in row-major (C) order.
//
// # Reading
//
// [Open] refuses, before opening it, any path that is not a regular file
// once symbolic links are followed (a directory, a named pipe, a device
// such as /dev/zero), then memory-maps the file read-only (on unix;
// elsewhere, or if mmap fails, it reads the file into memory) and validates
// the whole header before returning: the header length must fit in the file and be at most
// 100,000,000 bytes (the limit of the reference implementation), the header
// must be valid UTF-8 JSON holding one object without duplicate keys,
// "__metadata__" must map strings to strings, and every tensor must have a
// known dtype, non-negative integer dimensions whose element count does not
// overflow, data_offsets within the data section whose length equals
// numel*dtype size, and no two tensors may share a byte. Every failure is an
// error (a [*FormatError] naming the file, the tensor and the problem, which
// matches [ErrInvalid] under errors.Is); malformed input never panics (see
// FuzzParse).
//
// Unlike the reference Rust implementation, the data section does not have
// to be covered exactly: gaps between tensors and trailing bytes after the
// last tensor are accepted (and ignored), and tensors need not appear in
// offset order. Files written by the Python library are always gap-free, so
// this only makes the reader more permissive, never stricter. Unknown keys
// inside a tensor entry are ignored, as in the reference implementation.
//
// The data section is never copied by [Open]: [File.Raw] returns a slice of
// the mapping, and [File.Float32] / [File.Int64] allocate only the returned
// slices (values and shape). Faults while reading the mapping (for example
// when another process truncates the file after it was opened) are turned
// into errors by Float32 and Int64 rather than crashing the process; Raw's
// slice carries no such protection.
//
// # Writing
//
// [Write] validates every tensor before creating any file, then writes to a
// temporary file in the target's directory, fsyncs it and renames it over
// the target, so a failed save never destroys an earlier good file. The
// header's keys are sorted, the header is padded with spaces to a multiple
// of 8 bytes and tensors are laid out by decreasing element size, then by
// name, exactly like the Python library, so every tensor is aligned to its
// element size.
//
// # Why not github.com/nlpodyssey/safetensors
//
// We evaluated github.com/nlpodyssey/safetensors
// (v0.0.0-20250209183917-bfb01cc25f7c). Its parser is sound on the points
// that matter most: it works on a []byte without copying, checks the header
// length, requires contiguous in-range offsets whose lengths match
// numel*dtype size (with overflow checks) and survived a short fuzz run
// without panicking. We still did not build on it because:
// its writer computes the element count of a scalar (shape []) as 0, so it
// rejects a valid 4-byte F32 scalar and silently writes a 0-byte scalar that
// Python's loader refuses; several validation errors do not name the
// offending tensor ("info data offsets mismatch") and none can name the file;
// it has no mmap, no dtype conversion (F16/BF16 to float32) and no atomic
// write, and its API (uint8 DType enum, []uint64 shapes, generic View
// interface) would have to be wrapped and re-validated anyway. It is also
// untagged (pseudo-versions only). The parser here is a few hundred lines and
// is fuzzed in this package.
package safetensors
