package session

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"unsafe"
)

// FramedType is the Content-Type of a framed body: JSON with its Tensors'
// values out of line. Its layout, all integers little-endian:
//
//	magic   4 bytes "GVF1"
//	jsonLen uint32: the JSON part's length in bytes
//	nBlobs  uint32: the number of blobs (at most 1<<20)
//	lens    nBlobs x uint64: each blob's length in bytes, a multiple of 4
//	json    jsonLen bytes: the value, each Tensor as {"shape":[...],"blob":i}
//	blobs   the blobs, back to back: blob i is Tensor i's values as
//	        little-endian IEEE 754 float32s, row-major
//
// Nothing follows the last blob. A decoder checks every length against the
// body's size before it allocates anything, each blob's length against its
// tensor's shape, and that each blob belongs to exactly one tensor. A
// client sends a framed request only when the request holds a Tensor, and
// says it reads framed results with "Accept: application/x-govene-framed";
// without that header a session sends JSON (a Tensor's values inline as
// base64), so curl still works.
const FramedType = "application/x-govene-framed"

// frameMagic opens a framed body; no JSON text starts with 'G'.
const frameMagic = "GVF1"

// Marshal encodes v for the wire: plain JSON (contentType JSONType) when v
// holds no Tensor, else the framed form (FramedType) with each Tensor's
// values out of line. Errors are encoding/json's (a Go function in v gives
// a *json.UnsupportedTypeError), or name a Tensor whose Data does not
// match its Shape.
func Marshal(v any) (body []byte, contentType string, err error) {
	var b blobWriter
	nv, changed, err := b.out(valueOf(v), 0)
	if err != nil {
		return nil, "", err
	}
	if changed {
		v = nv.Interface()
	}
	js, err := json.Marshal(v)
	if err != nil || len(b.blobs) == 0 {
		return js, JSONType, err
	}
	size := 12 + 8*len(b.blobs) + len(js)
	for _, d := range b.blobs {
		size += 4 * len(d)
	}
	if len(js) > math.MaxUint32 {
		return nil, "", fmt.Errorf("session: the JSON part is %d bytes, over the framed form's limit of 4 GiB", len(js))
	}
	body = make([]byte, 0, size)
	body = append(body, frameMagic...)
	body = binary.LittleEndian.AppendUint32(body, uint32(len(js)))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(b.blobs)))
	for _, d := range b.blobs {
		body = binary.LittleEndian.AppendUint64(body, uint64(4*len(d)))
	}
	body = append(body, js...)
	for _, d := range b.blobs {
		n := len(body)
		body = body[:n+4*len(d)]
		putFloats(body[n:], d)
	}
	return body, FramedType, nil
}

// Unmarshal decodes a body that Marshal wrote (JSON or framed) into v, a
// non-nil pointer, as encoding/json does (fields v does not have are
// skipped). Errors name what is malformed: the frame, the JSON, or a
// tensor whose blob is missing or does not match its shape.
func Unmarshal(body []byte, v any) error {
	js, blobs, err := splitFrame(body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(js, v); err != nil {
		return err
	}
	return attachBlobs(v, blobs, false)
}

// splitFrame returns a body's JSON part and blobs: the body itself and no
// blobs when it is not framed. Every length is checked against the body's
// size before anything is allocated.
func splitFrame(body []byte) (js []byte, blobs [][]byte, err error) {
	if len(body) < len(frameMagic) || string(body[:len(frameMagic)]) != frameMagic {
		return body, nil, nil
	}
	if len(body) < 12 {
		return nil, nil, &Error{Message: fmt.Sprintf("framed body: %d bytes is shorter than its 12-byte header", len(body))}
	}
	jsonLen := uint64(binary.LittleEndian.Uint32(body[4:]))
	n := uint64(binary.LittleEndian.Uint32(body[8:]))
	rest := uint64(len(body) - 12)
	if n > maxBlobs || 8*n > rest {
		return nil, nil, &Error{Message: fmt.Sprintf("framed body: %d blobs do not fit in %d bytes (at most %d blobs)", n, len(body), maxBlobs)}
	}
	rest -= 8 * n
	if jsonLen > rest {
		return nil, nil, &Error{Message: fmt.Sprintf("framed body: a JSON part of %d bytes does not fit in the %d bytes left", jsonLen, rest)}
	}
	rest -= jsonLen
	lens := body[12 : 12+8*n]
	for i := range n {
		l := binary.LittleEndian.Uint64(lens[8*i:])
		if l%4 != 0 || l > rest {
			return nil, nil, &Error{Message: fmt.Sprintf("framed body: blob %d of %d bytes is not whole float32s or does not fit in the %d bytes left", i, l, rest)}
		}
		rest -= l
	}
	if rest != 0 {
		return nil, nil, &Error{Message: fmt.Sprintf("framed body: %d bytes after the last blob", rest)}
	}
	off := 12 + 8*n
	js = body[off : off+jsonLen]
	off += jsonLen
	blobs = make([][]byte, n)
	for i := range n {
		l := binary.LittleEndian.Uint64(lens[8*i:])
		blobs[i] = body[off : off+l : off+l]
		off += l
	}
	return js, blobs, nil
}

// littleEndian says whether this machine stores a float32 as the wire
// does, so that the values are copied as they are.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// floatBytes returns f's memory as bytes.
func floatBytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}

// putFloats writes src as little-endian float32s into dst (4*len(src) bytes).
func putFloats(dst []byte, src []float32) {
	if littleEndian {
		copy(dst, floatBytes(src))
		return
	}
	dst = dst[:4*len(src)]
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

// getFloats reads little-endian float32s from src.
func getFloats(src []byte) []float32 {
	out := make([]float32, len(src)/4)
	if littleEndian {
		copy(floatBytes(out), src)
		return out
	}
	src = src[:4*len(out)]
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
	return out
}
