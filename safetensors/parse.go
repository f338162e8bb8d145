package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest header length [Open] and [Parse] accept, the
// same limit as the reference implementation (100 MB).
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key holding the string-to-string
// metadata.
const metadataKey = "__metadata__"

// inMemory names the source of [Parse] in error messages.
const inMemory = "(in memory)"

var (
	// ErrInvalid is matched (via errors.Is) by every error that reports a
	// malformed file, i.e. every [*FormatError].
	ErrInvalid = errors.New("invalid safetensors data")
	// ErrNotFound is wrapped by errors for a tensor name the file does not
	// contain.
	ErrNotFound = errors.New("no such tensor")
	// ErrDType is wrapped by errors for a tensor whose dtype the requested
	// conversion does not handle (Float32 of an integer tensor and so on).
	ErrDType = errors.New("unsupported dtype")
	// ErrClosed is wrapped by errors from data accessors called after
	// [File.Close].
	ErrClosed = errors.New("file already closed")
)

// FormatError describes why a file's header or layout is invalid. Error()
// reads "safetensors: <Source>: tensor "<Tensor>": <Problem>" (without the
// tensor part when Tensor is empty). errors.Is(err, ErrInvalid) is true.
type FormatError struct {
	Source  string // the path given to Open, or "(in memory)" for Parse
	Tensor  string // the offending tensor (or "__metadata__"); "" for file-level problems
	Problem string // what is wrong
}

// Error returns the message described on [FormatError]; it never fails.
func (e *FormatError) Error() string {
	if e.Tensor == "" {
		return fmt.Sprintf("safetensors: %s: %s", e.Source, e.Problem)
	}
	return fmt.Sprintf("safetensors: %s: tensor %q: %s", e.Source, e.Tensor, e.Problem)
}

// Is reports whether target is [ErrInvalid]; false for any other target.
func (e *FormatError) Is(target error) bool { return target == ErrInvalid }

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int // row-major; empty for a scalar
	// Offsets are the [begin, end) byte offsets of the tensor's data,
	// relative to the start of the data section (as in the header).
	Offsets [2]int64
}

// NumElements returns the product of the dimensions of t.Shape (1 for a
// scalar). For a TensorInfo obtained from a [File] it never overflows;
// for hand-made values with overflowing or negative dimensions the result
// is meaningless.
func (t TensorInfo) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed, validated safetensors file. Its methods may be called
// from several goroutines at once, except Close, which must not run
// concurrently with any other method.
type File struct {
	source string
	all    []byte // the whole file (mapping, or heap bytes)
	body   []byte // data section: all[8+headerLen:]
	infos  map[string]TensorInfo
	names  []string // sorted
	meta   map[string]string
	unmap  func() error // releases all; nil when there is nothing to release
	closed bool
}

// Parse validates data as a complete safetensors file (see the package
// documentation for the checks) and returns a File that refers to data
// without copying it; data must not be modified while the File is in use.
// On malformed input it returns a nil *File and a [*FormatError] whose
// Source is "(in memory)"; it never panics. Close on the result releases
// nothing and only makes later data accessors fail.
func Parse(data []byte) (*File, error) {
	return parse(inMemory, data)
}

func parse(source string, data []byte) (*File, error) {
	fail := func(tensor, format string, args ...any) (*File, error) {
		return nil, &FormatError{Source: source, Tensor: tensor, Problem: fmt.Sprintf(format, args...)}
	}
	if len(data) < 8 {
		return fail("", "file is %d bytes, too short for the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return fail("", "header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return fail("", "header length %d exceeds the %d bytes after the length field (file truncated?)", n, len(data)-8)
	}
	header := data[8 : 8+n]
	body := data[8+n:]
	if !utf8.Valid(header) {
		return fail("", "header is not valid UTF-8")
	}
	entries, err := objectEntries(header)
	if err != nil {
		return fail("", "header is not a JSON object: %v", err)
	}

	f := &File{
		source: source,
		all:    data,
		body:   body,
		infos:  make(map[string]TensorInfo, len(entries)),
		meta:   map[string]string{},
	}
	for _, e := range entries {
		if e.key == metadataKey {
			if err := parseMetadata(e.value, f.meta); err != nil {
				return fail(metadataKey, "%v", err)
			}
			continue
		}
		info, err := parseTensorInfo(e.key, e.value, int64(len(body)))
		if err != nil {
			return fail(e.key, "%v", err)
		}
		f.infos[e.key] = info
		f.names = append(f.names, e.key)
	}
	slices.Sort(f.names)

	// Overlap check: sort the non-empty byte ranges by start; each must
	// start at or after the end of the previous one. Empty tensors occupy
	// no bytes and cannot overlap anything.
	ranges := make([]TensorInfo, 0, len(f.infos))
	for _, name := range f.names {
		if info := f.infos[name]; info.Offsets[1] > info.Offsets[0] {
			ranges = append(ranges, info)
		}
	}
	slices.SortFunc(ranges, func(a, b TensorInfo) int {
		if c := compareInt64(a.Offsets[0], b.Offsets[0]); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	for i := 1; i < len(ranges); i++ {
		prev, cur := ranges[i-1], ranges[i]
		if cur.Offsets[0] < prev.Offsets[1] {
			return fail(cur.Name, "data_offsets [%d, %d] overlap tensor %q at [%d, %d]",
				cur.Offsets[0], cur.Offsets[1], prev.Name, prev.Offsets[0], prev.Offsets[1])
		}
	}
	return f, nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type entry struct {
	key   string
	value json.RawMessage
}

// objectEntries decodes raw as exactly one JSON object and returns its
// members in order. Unlike json.Unmarshal into a map it rejects duplicate
// keys, null, and trailing data.
func objectEntries(raw []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("found %s instead of an object", describeToken(tok))
	}
	var out []entry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok { // cannot happen for valid JSON; be defensive
			return nil, fmt.Errorf("found %s instead of a key", describeToken(tok))
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("key %q: %v", key, err)
		}
		out = append(out, entry{key, v})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, err
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, fmt.Errorf("after the object: %v", err)
		}
		return nil, fmt.Errorf("trailing data after the object: %s", describeToken(tok))
	}
	return out, nil
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", tok)
}

// firstByte returns the first non-whitespace byte of a JSON value.
func firstByte(raw []byte) byte {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

func parseMetadata(raw json.RawMessage, into map[string]string) error {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil // the reference implementation treats null as absent
	}
	entries, err := objectEntries(raw)
	if err != nil {
		return fmt.Errorf("must be an object of strings: %v", err)
	}
	for _, e := range entries {
		if firstByte(e.value) != '"' {
			return fmt.Errorf("value of %q is %s, want a string", e.key, abbreviate(e.value))
		}
		var s string
		if err := json.Unmarshal(e.value, &s); err != nil {
			return fmt.Errorf("value of %q: %v", e.key, err)
		}
		into[e.key] = s
	}
	return nil
}

func abbreviate(raw []byte) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

func parseTensorInfo(name string, raw json.RawMessage, bodyLen int64) (TensorInfo, error) {
	info := TensorInfo{Name: name}
	entries, err := objectEntries(raw)
	if err != nil {
		return info, fmt.Errorf("entry is not a JSON object: %v", err)
	}
	var dtypeRaw, shapeRaw, offRaw json.RawMessage
	for _, e := range entries {
		switch e.key {
		case "dtype":
			dtypeRaw = e.value
		case "shape":
			shapeRaw = e.value
		case "data_offsets":
			offRaw = e.value
		}
	}
	if dtypeRaw == nil || shapeRaw == nil || offRaw == nil {
		return info, errors.New(`entry needs "dtype", "shape" and "data_offsets"`)
	}

	var dt string
	if firstByte(dtypeRaw) != '"' || json.Unmarshal(dtypeRaw, &dt) != nil {
		return info, fmt.Errorf("dtype is %s, want a string", abbreviate(dtypeRaw))
	}
	info.DType = DType(dt)
	if !info.DType.Valid() {
		return info, fmt.Errorf("unknown dtype %q (known: %s)", dt, knownDTypes)
	}

	dims, err := intArray(shapeRaw)
	if err != nil {
		return info, fmt.Errorf("shape: %v", err)
	}
	info.Shape = make([]int, len(dims))
	numel := int64(1)
	hasZero := slices.Contains(dims, 0)
	for i, d := range dims {
		if d < 0 {
			return info, fmt.Errorf("shape %s: dimension %d is negative", abbreviate(shapeRaw), i)
		}
		if d > math.MaxInt {
			return info, fmt.Errorf("shape %s: dimension %d does not fit in an int", abbreviate(shapeRaw), i)
		}
		info.Shape[i] = int(d)
		if hasZero {
			numel = 0
		} else if numel > math.MaxInt64/d {
			return info, fmt.Errorf("shape %s: number of elements overflows int64", abbreviate(shapeRaw))
		} else {
			numel *= d
		}
	}
	size := int64(info.DType.Size())
	if numel > math.MaxInt64/size {
		return info, fmt.Errorf("shape %v of %s: byte size overflows int64", info.Shape, info.DType)
	}
	nbytes := numel * size

	offs, err := intArray(offRaw)
	if err != nil {
		return info, fmt.Errorf("data_offsets: %v", err)
	}
	if len(offs) != 2 {
		return info, fmt.Errorf("data_offsets has %d elements, want [begin, end]", len(offs))
	}
	begin, end := offs[0], offs[1]
	info.Offsets = [2]int64{begin, end}
	switch {
	case begin < 0 || end < 0:
		return info, fmt.Errorf("data_offsets [%d, %d] are negative", begin, end)
	case end < begin:
		return info, fmt.Errorf("data_offsets [%d, %d] end before they begin", begin, end)
	case end > bodyLen:
		return info, fmt.Errorf("data_offsets [%d, %d] extend past the %d-byte data section (file truncated?)", begin, end, bodyLen)
	case end-begin != nbytes:
		return info, fmt.Errorf("data_offsets [%d, %d] span %d bytes, but shape %v of %s needs %d",
			begin, end, end-begin, info.Shape, info.DType, nbytes)
	}
	return info, nil
}

// intArray decodes raw as a JSON array of integers that fit in an int64.
// Non-integers ("1.5", "1e3", "\"3\"") are rejected.
func intArray(raw json.RawMessage) ([]int64, error) {
	if firstByte(raw) != '[' {
		return nil, fmt.Errorf("%s is not an array", abbreviate(raw))
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, err
	}
	out := make([]int64, len(elems))
	for i, e := range elems {
		s := string(bytes.TrimSpace(e))
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			if len(s) > 40 {
				s = s[:40] + "..."
			}
			return nil, fmt.Errorf("element %d is %s, want an integer in int64 range", i, s)
		}
		out[i] = v
	}
	return out, nil
}

// Names returns the tensor names of f in sorted order, as a new slice the
// caller may modify; empty (not nil) for a file without tensors. It works
// after Close.
func (f *File) Names() []string {
	return append([]string{}, f.names...)
}

// Info returns the description of the tensor called name and true, or a
// zero TensorInfo and false if f has no such tensor. The returned Shape is
// a copy. It works after Close.
func (f *File) Info(name string) (TensorInfo, bool) {
	info, ok := f.infos[name]
	if !ok {
		return TensorInfo{}, false
	}
	info.Shape = slices.Clone(info.Shape)
	if info.Shape == nil {
		info.Shape = []int{}
	}
	return info, true
}

// Metadata returns a copy of the "__metadata__" map; empty (not nil) when
// the file has none. It works after Close.
func (f *File) Metadata() map[string]string {
	m := make(map[string]string, len(f.meta))
	for k, v := range f.meta {
		m[k] = v
	}
	return m
}

// Close releases the memory mapping, if any. Afterwards Raw, Float32 and
// Int64 return errors wrapping [ErrClosed] and slices previously returned by
// Raw must not be used. Closing twice returns nil the second time; it returns
// an error only if unmapping fails.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.body, f.all = nil, nil
	if f.unmap != nil {
		u := f.unmap
		f.unmap = nil
		if err := u(); err != nil {
			return fmt.Errorf("safetensors: %s: close: %w", f.source, err)
		}
	}
	return nil
}

// lookup returns the tensor's description and bytes, or an error naming the
// file, the operation and (for unknown names) a few available names.
func (f *File) lookup(op, name string) (TensorInfo, []byte, error) {
	if f.closed {
		return TensorInfo{}, nil, fmt.Errorf("safetensors: %s: %s(%q): %w", f.source, op, name, ErrClosed)
	}
	info, ok := f.infos[name]
	if !ok {
		return TensorInfo{}, nil, fmt.Errorf("safetensors: %s: %s: %w %q; %s", f.source, op, ErrNotFound, name, f.suggest(name))
	}
	b, e := int(info.Offsets[0]), int(info.Offsets[1])
	return info, f.body[b:e:e], nil
}

// suggest describes a few names of f, preferring those that contain name
// (or are contained in it), then those sharing the longest prefix with it.
func (f *File) suggest(name string) string {
	if len(f.names) == 0 {
		return "the file has no tensors"
	}
	const max = 5
	score := func(s string) int {
		if strings.Contains(s, name) || strings.Contains(name, s) {
			return 1 << 30
		}
		i := 0
		for i < len(s) && i < len(name) && s[i] == name[i] {
			i++
		}
		return i
	}
	cands := slices.Clone(f.names)
	slices.SortStableFunc(cands, func(a, b string) int { return score(b) - score(a) })
	if len(cands) > max {
		cands = cands[:max]
	}
	q := make([]string, len(cands))
	for i, c := range cands {
		q[i] = strconv.Quote(c)
	}
	more := ""
	if len(f.names) > max {
		more = ", ..."
	}
	return fmt.Sprintf("the file has %d tensors, e.g. %s%s", len(f.names), strings.Join(q, ", "), more)
}

// Raw returns the bytes of the tensor called name (little-endian, row-major)
// and its description. The slice aliases the file's memory mapping: it is
// read-only (writing to it crashes the process), valid only until Close,
// and its capacity is clipped so appending copies. For an unknown name it
// returns an error wrapping [ErrNotFound] that lists a few available names;
// after Close, an error wrapping [ErrClosed].
func (f *File) Raw(name string) ([]byte, TensorInfo, error) {
	info, raw, err := f.lookup("Raw", name)
	if err != nil {
		return nil, TensorInfo{}, err
	}
	info.Shape = slices.Clone(info.Shape)
	return raw, info, nil
}

// Release drops the memory-mapped pages of tensor name from the process's
// resident memory after it has been read, so loading a large file tensor by
// tensor keeps the peak near the size of what was converted, not twice it.
// It does nothing for files read into memory, unknown names or after Close.
func (f *File) Release(name string) {
	if f.closed || f.unmap == nil {
		return
	}
	info, ok := f.infos[name]
	if !ok {
		return
	}
	start, end := int(info.Offsets[0]), int(info.Offsets[1])
	// Only whole pages inside the tensor's bytes are dropped.
	base := len(f.all) - len(f.body)
	page := os.Getpagesize()
	lo := ((base + start + page - 1) / page) * page
	hi := ((base + end) / page) * page
	if hi > lo {
		dropPages(f.all[lo:hi])
	}
}
