package session

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// Float32s is a []float32 that travels as a JSON string holding the
// base64 of its little-endian IEEE 754 bytes: a third the size of a JSON
// array of numbers and many times faster to encode and decode, which
// matters for logits and activations. It decodes from that form, from a
// JSON array of numbers (for requests written by hand) and from null.
type Float32s []float32

// MarshalJSON encodes f as a base64 string of its little-endian bytes.
func (f Float32s) MarshalJSON() ([]byte, error) {
	if f == nil {
		return []byte("null"), nil
	}
	raw := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(len(raw))+2)
	out[0], out[len(out)-1] = '"', '"'
	base64.StdEncoding.Encode(out[1:], raw)
	return out, nil
}

// UnmarshalJSON decodes a base64 string of little-endian float32s, a JSON
// array of numbers or null; it returns an error naming what is wrong for
// anything else (not base64, a length that is not a multiple of 4 bytes).
func (f *Float32s) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*f = nil
		return nil
	case len(data) > 0 && data[0] == '[':
		var v []float32
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("float32 array: %v", err) // %v: the field is not the inner one
		}
		*f = v
		return nil
	case len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"':
		return fmt.Errorf("float32s: want a base64 string of little-endian float32s or an array of numbers, got %.20q", data)
	}
	s := data[1 : len(data)-1]
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(raw, s)
	if err != nil {
		return fmt.Errorf("float32s: not base64: %w", err)
	}
	if n%4 != 0 {
		return fmt.Errorf("float32s: %d bytes is not a whole number of float32s (4 bytes each)", n)
	}
	out := make([]float32, n/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	*f = out
	return nil
}
