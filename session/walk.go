package session

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
)

// The functions here find the Tensors in a value by reflection, where
// encoding/json would encode or decode them: exported fields (not tagged
// "-"), slices, arrays, maps, pointers and interfaces. A type with its own
// JSON or text (un)marshaler other than Tensor is not entered: its Tensors
// travel inline.

var (
	tensorType     = reflect.TypeFor[Tensor]()
	holdsCache     sync.Map // reflect.Type -> bool
	customEncoding = []reflect.Type{
		reflect.TypeFor[json.Marshaler](), reflect.TypeFor[json.Unmarshaler](),
		reflect.TypeFor[encoding.TextMarshaler](), reflect.TypeFor[encoding.TextUnmarshaler](),
	}
)

// maxDepth bounds the nesting the walks follow, as encoding/json does.
const maxDepth = 1000

// holdsTensors says whether a value of type t can hold a Tensor where
// encoding/json reaches it.
func holdsTensors(t reflect.Type) bool {
	if v, ok := holdsCache.Load(t); ok {
		return v.(bool)
	}
	h := holds(t, map[reflect.Type]bool{})
	holdsCache.Store(t, h)
	return h
}

func holds(t reflect.Type, seen map[reflect.Type]bool) bool {
	switch {
	case t == tensorType:
		return true
	case t.Kind() == reflect.Interface:
		return true
	case seen[t]:
		return false
	}
	seen[t] = true
	if t.Kind() == reflect.Pointer { // before the methods: *Tensor has Tensor's
		return holds(t.Elem(), seen)
	}
	for _, c := range customEncoding {
		if t.Implements(c) || reflect.PointerTo(t).Implements(c) {
			return false
		}
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return holds(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && f.Tag.Get("json") != "-" && holds(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// valueOf returns v's reflect.Value (the zero Value for nil).
func valueOf(v any) reflect.Value { return reflect.ValueOf(v) }

// blobWriter collects the Tensors of a value being marshalled.
type blobWriter struct{ blobs [][]float32 }

// out returns v, or a copy of it where every Tensor is marked with its
// blob (changed true): the caller's value is never modified.
func (b *blobWriter) out(v reflect.Value, depth int) (nv reflect.Value, changed bool, err error) {
	if !v.IsValid() || !holdsTensors(v.Type()) {
		return v, false, nil
	}
	if depth > maxDepth {
		return v, false, fmt.Errorf("session: the value is nested more than %d levels deep (a cycle?)", maxDepth)
	}
	t := v.Type()
	switch t.Kind() {
	case reflect.Struct:
		if t == tensorType {
			tv := v.Interface().(Tensor)
			if err := tv.Check(); err != nil {
				return v, false, err
			}
			b.blobs = append(b.blobs, tv.Data)
			wire(&tv).Ref = len(b.blobs)
			return reflect.ValueOf(tv), true, nil
		}
		var cp reflect.Value
		for i := range t.NumField() {
			if f := t.Field(i); !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			fv, ch, err := b.out(v.Field(i), depth+1)
			if err != nil {
				return v, false, err
			}
			if ch {
				if !cp.IsValid() {
					cp = reflect.New(t).Elem()
					cp.Set(v)
				}
				cp.Field(i).Set(fv)
			}
		}
		if cp.IsValid() {
			return cp, true, nil
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return v, false, nil
		}
		ev, ch, err := b.out(v.Elem(), depth+1)
		if err != nil || !ch {
			return v, false, err
		}
		if t.Kind() == reflect.Pointer {
			p := reflect.New(t.Elem())
			p.Elem().Set(ev)
			return p, true, nil
		}
		iv := reflect.New(t).Elem()
		iv.Set(ev)
		return iv, true, nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && v.IsNil() {
			return v, false, nil
		}
		var cp reflect.Value
		for i := range v.Len() {
			ev, ch, err := b.out(v.Index(i), depth+1)
			if err != nil {
				return v, false, err
			}
			if ch {
				if !cp.IsValid() {
					if t.Kind() == reflect.Slice {
						cp = reflect.MakeSlice(t, v.Len(), v.Len())
						reflect.Copy(cp, v)
					} else {
						cp = reflect.New(t).Elem()
						cp.Set(v)
					}
				}
				cp.Index(i).Set(ev)
			}
		}
		if cp.IsValid() {
			return cp, true, nil
		}
	case reflect.Map:
		if v.IsNil() {
			return v, false, nil
		}
		var cp reflect.Value
		for _, k := range v.MapKeys() {
			ev, ch, err := b.out(v.MapIndex(k), depth+1)
			if err != nil {
				return v, false, err
			}
			if ch {
				if !cp.IsValid() {
					cp = reflect.MakeMapWithSize(t, v.Len())
					for it := v.MapRange(); it.Next(); {
						cp.SetMapIndex(it.Key(), it.Value())
					}
				}
				cp.SetMapIndex(k, ev)
			}
		}
		if cp.IsValid() {
			return cp, true, nil
		}
	}
	return v, false, nil
}

// blobReader fills the Tensors of a decoded value from a body's blobs.
type blobReader struct {
	blobs [][]byte
	used  []bool
	nUsed int
}

// attachBlobs gives every Tensor decoded from a blob reference in v (a
// pointer) its values, checking each blob against the tensor's shape and
// that no blob serves two tensors; strict also refuses a blob that no
// tensor took. Errors are *Error values.
func attachBlobs(v any, blobs [][]byte, strict bool) error {
	what := "body"
	if strict {
		what = "request"
	}
	r := blobReader{blobs: blobs, used: make([]bool, len(blobs))}
	if err := r.in(valueOf(v), 0); err != nil {
		return &Error{Message: what + ": " + err.Error()}
	}
	if strict {
		for i, u := range r.used {
			if !u {
				return &Error{Message: fmt.Sprintf("request: blob %d is not the blob of any tensor of the request (a field the method does not take?)", i)}
			}
		}
	}
	return nil
}

func (r *blobReader) in(v reflect.Value, depth int) error {
	if !v.IsValid() || !holdsTensors(v.Type()) {
		return nil
	}
	if depth > maxDepth {
		return fmt.Errorf("the value is nested more than %d levels deep", maxDepth)
	}
	t := v.Type()
	switch t.Kind() {
	case reflect.Struct:
		if t == tensorType {
			if v.CanAddr() {
				return r.fill(v.Addr().Interface().(*Tensor))
			}
			return nil
		}
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				if err := r.in(v.Field(i), depth+1); err != nil {
					return err
				}
			}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return r.in(v.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := r.in(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(t.Elem()).Elem()
			e.Set(v.MapIndex(k))
			before := r.nUsed
			if err := r.in(e, depth+1); err != nil {
				return err
			}
			if r.nUsed != before {
				v.SetMapIndex(k, e)
			}
		}
	}
	return nil
}

// fill reads a pending tensor's blob.
func (r *blobReader) fill(t *Tensor) error {
	w := wire(t)
	if w.Pending == 0 {
		return nil
	}
	i := w.Pending - 1
	w.Pending = 0
	switch {
	case i >= len(r.blobs):
		return fmt.Errorf("a tensor refers to blob %d, but the body has %d blobs", i, len(r.blobs))
	case r.used[i]:
		return fmt.Errorf("blob %d is the blob of two tensors", i)
	}
	n, err := t.Len()
	if err != nil {
		return err
	}
	if 4*n != len(r.blobs[i]) {
		return fmt.Errorf("a tensor of shape %v needs %d bytes, its blob %d has %d", t.Shape, 4*n, i, len(r.blobs[i]))
	}
	r.used[i] = true
	r.nUsed++
	t.Data = getFloats(r.blobs[i])
	return nil
}
