package job

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"unicode/utf8"
)

// maxLine is the longest dataset line read, in bytes (a variable for
// tests).
var maxLine = 64 << 20

// line is one non-blank line of a dataset.
type line struct {
	index  int   // 0-based line index in the file (blank lines counted)
	offset int64 // byte offset of the line's start
	data   []byte
}

// openDataset opens path for reading, refusing anything but a regular file
// (a folder, a FIFO or a device would fail late or block).
func openDataset(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("job: dataset: %w", err)
	}
	if !st.Mode().IsRegular() {
		what := "not a regular file"
		switch {
		case st.IsDir():
			what = "a folder"
		case st.Mode()&fs.ModeNamedPipe != 0:
			what = "a named pipe (FIFO)"
		case st.Mode()&fs.ModeDevice != 0:
			what = "a device"
		}
		want := "a JSONL file"
		if isParquet(path) {
			want = "a Parquet file"
		}
		return nil, fmt.Errorf("job: dataset %s is %s; want %s", path, what, want)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("job: dataset: %w", err)
	}
	return f, nil
}

// splitLines is bufio.ScanLines keeping the line ending, so that byte
// offsets can be counted.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// scanLines reads r from byte offset off, at line index first, and calls fn
// for each non-blank line (trimmed of its line ending and surrounding
// space) until fn returns errStop or an error, or r ends. name names the
// file in errors; a line longer than maxLine, a NUL byte (binary data) or
// invalid UTF-8 is an error naming the line.
func scanLines(name string, r io.Reader, off int64, first int, fn func(l line) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine)), maxLine)
	sc.Split(splitLines)
	idx := first
	for sc.Scan() {
		raw := sc.Bytes()
		l := line{index: idx, offset: off, data: bytes.TrimSpace(raw)}
		off += int64(len(raw))
		idx++
		if len(l.data) == 0 {
			continue
		}
		if bytes.IndexByte(l.data, 0) >= 0 {
			return fmt.Errorf("job: %s:%d: binary data (a NUL byte); want one JSON object per line", name, l.index+1)
		}
		if !utf8.Valid(l.data) {
			return fmt.Errorf("job: %s:%d: not valid UTF-8; want one JSON object per line", name, l.index+1)
		}
		if err := fn(l); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("job: %s:%d: line longer than %d bytes; want one JSON object per line", name, idx+1, maxLine)
		}
		return fmt.Errorf("job: %s:%d: %w", name, idx+1, err)
	}
	return nil
}

// errStop ends scanLines early without an error.
var errStop = errors.New("stop")

// row is one example of any kind, as read from its JSON line or Parquet
// row.
type row struct {
	Text    *string  `json:"text"`
	IDs     []int    `json:"ids"`
	Base    *string  `json:"base"`
	Source  *string  `json:"source"`
	Sources []string `json:"sources"`
	Targets []string `json:"targets"`
	Label   *string  `json:"label"`

	line    int  // 0-based line index (JSONL) or row index (Parquet)
	parquet bool // read from a Parquet file
}

// pos says where r is in dataset name, for errors: "name:3" (a JSONL line
// number) or "name: row 2" (a 0-based Parquet row index).
func (r row) pos(name string) string {
	if r.parquet {
		return fmt.Sprintf("%s: row %d", name, r.line)
	}
	return fmt.Sprintf("%s:%d", name, r.line+1)
}

// noun names r's fields in errors: "field" (JSONL) or "column" (Parquet).
func (r row) noun() string {
	if r.parquet {
		return "column"
	}
	return "field"
}

// at says where field f of r is in dataset name, for errors:
// `name:3: field "text"` or `name: row 2: column "text"`.
func (r row) at(name, f string) string {
	return fmt.Sprintf("%s: %s %q", r.pos(name), r.noun(), f)
}

// parseRow decodes and checks one line for kind. name names the file in
// errors, which give the line number and the field.
func parseRow(name, kind string, l line) (row, error) {
	var r row
	if err := json.Unmarshal(l.data, &r); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return row{}, fmt.Errorf("job: %s:%d: field %q: a JSON %s, want %s", name, l.index+1, te.Field, te.Value, jsonType(te.Type.String()))
		}
		return row{}, fmt.Errorf("job: %s:%d: not a JSON object: %v", name, l.index+1, err)
	}
	r.line = l.index
	if err := checkRow(name, kind, r); err != nil {
		return row{}, err
	}
	return r, nil
}

// checkRow checks that r, read from dataset name, has the fields kind needs,
// non-empty. A missing (or null) field is an error, as is a collect row
// with both text and ids. Errors say where r is (row.pos) and name the
// field.
func checkRow(name, kind string, r row) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("job: %s: %s", r.pos(name), fmt.Sprintf(format, args...))
	}
	n := r.noun()
	nonEmpty := func(field string, s *string) error {
		if s == nil {
			return fail("%s %q is missing", n, field)
		}
		if *s == "" {
			return fail("%s %q is empty", n, field)
		}
		return nil
	}
	switch kind {
	case Collect:
		switch {
		case r.Text != nil && r.IDs != nil:
			return fail(`%ss "text" and "ids" both given; give one`, n)
		case r.IDs != nil:
			if len(r.IDs) == 0 {
				return fail(`%s "ids" is empty`, n)
			}
		case r.Text == nil:
			return fail(`%s "text" (or "ids") is missing`, n)
		case *r.Text == "":
			return fail(`%s "text" is empty`, n)
		}
	case Patch:
		for _, f := range []struct {
			name string
			v    *string
		}{{"base", r.Base}, {"source", r.Source}} {
			if err := nonEmpty(f.name, f.v); err != nil {
				return err
			}
		}
		for i, t := range r.Targets {
			if t == "" {
				return fail("%s \"targets\"[%d] is empty", n, i)
			}
		}
	case IIA:
		if err := nonEmpty("base", r.Base); err != nil {
			return err
		}
		if len(r.Sources) == 0 {
			return fail(`%s "sources" is missing or empty; give a list of source prompts`, n)
		}
		for i, s := range r.Sources {
			if s == "" {
				return fail("%s \"sources\"[%d] is empty", n, i)
			}
		}
		if err := nonEmpty("label", r.Label); err != nil {
			return err
		}
	}
	return nil
}

// jsonType names a Go type of row's fields as a JSON type.
func jsonType(goType string) string {
	switch goType {
	case "string", "*string":
		return "a string"
	case "int":
		return "an integer"
	case "[]string":
		return "a list of strings"
	case "[]int":
		return "a list of integers"
	}
	return goType
}
