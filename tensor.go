package govene

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/govene/govene/internal/tensorwire"
)

// Tensor is a float32 tensor as data: its shape and its values, row-major.
// A nil Shape means a vector of len(Data), an empty one a scalar.
//
// In JSON it is {"shape":[...],"data":<Float32s>}. Sent to or from a
// session (package session), its values travel out of line instead, as
// raw little-endian bytes after the JSON, which costs about a memory copy.
type Tensor struct {
	Shape []int
	Data  []float32
	// wire is the framed form's state (package session reads and sets it
	// through internal/tensorwire).
	wire tensorwire.State
}

func init() {
	tensorwire.StateOf = func(t any) *tensorwire.State { return &t.(*Tensor).wire }
}

// tensorJSON is a Tensor's JSON form: inline data, or a blob reference.
type tensorJSON struct {
	Shape []int    `json:"shape"`
	Data  Float32s `json:"data,omitempty"`
	Blob  *int     `json:"blob,omitempty"`
}

// maxElems bounds a tensor's element count, so that its byte size fits an int.
const maxElems = math.MaxInt / 8

// Len returns the number of values Shape holds (len(Data) for a nil
// Shape), or an error naming a negative dimension or a product too large.
func (t Tensor) Len() (int, error) {
	if t.Shape == nil {
		return len(t.Data), nil
	}
	n := 1
	for i, d := range t.Shape {
		if d < 0 {
			return 0, fmt.Errorf("tensor: shape %v: dimension %d is %d, must be >= 0", t.Shape, i, d)
		}
		if d > 0 && n > maxElems/d {
			return 0, fmt.Errorf("tensor: shape %v holds more than %d values", t.Shape, maxElems)
		}
		n *= d
	}
	return n, nil
}

// Check returns nil when Data holds exactly the values Shape says, else an
// error naming the shape and both counts (or Len's error).
func (t Tensor) Check() error {
	n, err := t.Len()
	if err == nil && n != len(t.Data) {
		err = fmt.Errorf("tensor: shape %v holds %d values but Data has %d", t.Shape, n, len(t.Data))
	}
	return err
}

// shape returns Shape, or [len(Data)] when Shape is nil.
func (t Tensor) shape() []int {
	if t.Shape == nil {
		return []int{len(t.Data)}
	}
	return t.Shape
}

// MarshalJSON encodes t as {"shape":[...],"data":"<base64>"}, or as a
// blob reference inside a framed body; an error when Data does not match
// Shape.
func (t Tensor) MarshalJSON() ([]byte, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	j := tensorJSON{Shape: t.shape()}
	if t.wire.Ref > 0 {
		i := t.wire.Ref - 1
		j.Blob = &i
	} else {
		j.Data = Float32s(t.Data)
		if j.Data == nil {
			j.Data = Float32s{}
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes {"shape":[...],"data":...} (data as Float32s
// takes it) or a framed body's {"shape":[...],"blob":i}, whose values the
// session's body decoder fills in. A missing shape means a vector. Errors
// name unknown fields, a bad shape, or data that does not match the shape.
func (t *Tensor) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j tensorJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("tensor: %v", err)
	}
	n := Tensor{Shape: j.Shape, Data: j.Data}
	if j.Blob != nil {
		if j.Data != nil {
			return errors.New("tensor: give data or blob, not both")
		}
		if *j.Blob < 0 || *j.Blob >= tensorwire.MaxBlobs {
			return fmt.Errorf("tensor: blob %d is not a blob index (0 to %d)", *j.Blob, tensorwire.MaxBlobs-1)
		}
		if j.Shape == nil {
			return fmt.Errorf("tensor: blob %d needs a shape", *j.Blob)
		}
		if _, err := n.Len(); err != nil {
			return err
		}
		n.wire.Pending = *j.Blob + 1
	} else {
		if err := n.Check(); err != nil {
			return err
		}
		n.Shape = n.shape()
		if n.Data == nil {
			n.Data = []float32{}
		}
	}
	*t = n
	return nil
}

// Float32s is a []float32 that travels as a JSON string holding the
// base64 of its little-endian IEEE 754 bytes: a third the size of a JSON
// array of numbers, many times faster to encode and decode, and exact
// (NaN and infinities included). It decodes from that form, from a JSON
// array of numbers (for data written by hand) and from null.
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
