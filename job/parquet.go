package job

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Limits on what a Parquet dataset's metadata may claim, so that a corrupt
// or hostile file is refused before the reader allocates for it (variables
// for tests).
var (
	// maxParquetFooter is the largest footer (file metadata) read, in bytes.
	maxParquetFooter int64 = 64 << 20
	// maxParquetChunk is the largest column chunk, compressed or not, in
	// bytes.
	maxParquetChunk int64 = 1 << 30
)

// parquetBatch is the number of rows read from a row group at a time.
const parquetBatch = 64

// pqField is a dataset field as a Parquet column: a string or a list of
// strings or integers.
type pqField struct {
	name     string
	list     bool // a list (else a scalar)
	str      bool // strings (else integers)
	required bool // the column must exist (collect: text or ids)
}

// want says what a column of f must hold, for errors.
func (f pqField) want() string {
	switch {
	case f.list && f.str:
		return "a list of strings"
	case f.list:
		return "a list of integers"
	}
	return "a string"
}

// pqFields are the columns each kind reads, as the JSON fields of parseRow.
var pqFields = map[string][]pqField{
	Collect: {{name: "text", str: true}, {name: "ids", list: true}},
	Patch:   {{name: "base", str: true, required: true}, {name: "source", str: true, required: true}, {name: "targets", list: true, str: true}},
	IIA:     {{name: "base", str: true, required: true}, {name: "sources", list: true, str: true, required: true}, {name: "label", str: true, required: true}},
}

// pqColumn is a field found in a file's schema: its leaf column and the
// definition levels that tell a null from an empty list from a value.
type pqColumn struct {
	pqField
	leaf     int  // leaf column index
	unsigned bool // integers: an unsigned logical type
	// emptyDef is a list's definition level when it is present but empty
	// (below it the list is null); maxDef is a present element's or
	// scalar's (between the two, a null element).
	emptyDef, maxDef int
}

// isParquet reports whether path names a Parquet dataset: its name ends in
// ".parquet" (any case).
func isParquet(path string) bool {
	return strings.HasSuffix(strings.ToLower(path), ".parquet")
}

// parquetRows reads the rows of the Parquet dataset f (named name in
// errors) for kind from row index first on and calls fn with each row and
// its canonical JSON encoding (what a shard's RowsSHA256 covers), until fn
// returns errStop or an error or the rows end. Whole row groups before first
// are skipped unread and the reader seeks to first in its row group. It
// returns an error naming the file for a file that is not Parquet, is
// truncated or corrupt (a panic in the Parquet reader included), lacks a
// column kind needs (listing the file's columns) or has one of the wrong
// type; and naming the row and the column for a bad value.
func parquetRows(name, kind string, f *os.File, first int, fn func(r row, rec []byte) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job: %s: corrupt Parquet data (the reader failed: %v)", name, p)
		}
	}()
	pf, err := openParquet(name, f)
	if err != nil {
		return err
	}
	cols, err := parquetColumns(name, kind, pf.Schema())
	if err != nil {
		return err
	}
	start := 0
	for g, rg := range pf.RowGroups() {
		n := int(rg.NumRows())
		if first >= start+n {
			start += n
			continue
		}
		err := readRowGroup(name, kind, rg, g, start, max(first-start, 0), cols, fn)
		if errors.Is(err, errStop) {
			return nil
		}
		if err != nil {
			return err
		}
		start += n
	}
	return nil
}

// openParquet opens f as a Parquet file after checking its magic bytes and
// footer size, and checks the footer's row counts and column chunk extents
// against the file's size and the limits. Errors name the file and say
// what is wrong.
func openParquet(name string, f *os.File) (*parquet.File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("job: dataset: %w", err)
	}
	size := st.Size()
	if size < 12 {
		return nil, fmt.Errorf("job: %s: %d bytes, too short for a Parquet file (truncated, or not Parquet)", name, size)
	}
	var head [4]byte
	var tail [8]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return nil, fmt.Errorf("job: %s: %w", name, err)
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return nil, fmt.Errorf("job: %s: %w", name, err)
	}
	switch {
	case string(head[:]) == "PARE" || string(tail[4:]) == "PARE":
		return nil, fmt.Errorf("job: %s: an encrypted Parquet file; want an unencrypted one", name)
	case string(head[:]) != "PAR1":
		return nil, fmt.Errorf("job: %s: not a Parquet file (it starts with %q, not \"PAR1\")", name, head[:])
	case string(tail[4:]) != "PAR1":
		return nil, fmt.Errorf("job: %s: no Parquet footer (the file ends with %q, not \"PAR1\"): truncated or corrupt", name, tail[4:])
	}
	footer := int64(binary.LittleEndian.Uint32(tail[:4]))
	if footer > size-12 {
		return nil, fmt.Errorf("job: %s: the footer claims %d bytes, the file has %d: truncated or corrupt", name, footer, size)
	}
	if footer > maxParquetFooter {
		return nil, fmt.Errorf("job: %s: a footer of %d bytes, more than the %d read", name, footer, maxParquetFooter)
	}
	pf, err := parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true),
		parquet.FileReadMode(parquet.ReadModeSync)) // sync: a reader panic stays in this goroutine, where it is recovered
	if err != nil {
		return nil, fmt.Errorf("job: %s: corrupt Parquet footer: %w", name, err)
	}
	md := pf.Metadata()
	total := int64(0)
	for g, rg := range md.RowGroups {
		if rg.NumRows < 0 || rg.NumRows > math.MaxInt32 {
			return nil, fmt.Errorf("job: %s: row group %d claims %d rows: corrupt footer", name, g, rg.NumRows)
		}
		total += rg.NumRows
		for c, cc := range rg.Columns {
			m := cc.MetaData
			if cc.FilePath != "" {
				return nil, fmt.Errorf("job: %s: row group %d column %d is in another file (%q); want one self-contained file", name, g, c, cc.FilePath)
			}
			begin := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < begin {
				begin = m.DictionaryPageOffset
			}
			if begin < 4 || m.TotalCompressedSize < 0 || m.TotalCompressedSize > size-footer-8-begin {
				return nil, fmt.Errorf("job: %s: row group %d column %d claims bytes [%d, +%d) of a %d-byte file: truncated or corrupt", name, g, c, begin, m.TotalCompressedSize, size)
			}
			if m.TotalUncompressedSize < 0 || m.TotalUncompressedSize > maxParquetChunk || m.TotalCompressedSize > maxParquetChunk {
				return nil, fmt.Errorf("job: %s: row group %d column %d claims %d bytes uncompressed, more than the %d read; write smaller row groups", name, g, c, m.TotalUncompressedSize, maxParquetChunk)
			}
		}
	}
	if total != md.NumRows {
		return nil, fmt.Errorf("job: %s: the row groups have %d rows, the footer says %d: corrupt footer", name, total, md.NumRows)
	}
	return pf, nil
}

// parquetColumns finds kind's fields among the top-level columns of schema.
// It returns an error naming a required column that is missing (with the
// file's columns) or a column of the wrong type (what it holds and what is
// wanted).
func parquetColumns(name, kind string, schema *parquet.Schema) ([]pqColumn, error) {
	var cols []pqColumn
	var names []string
	for _, f := range schema.Fields() {
		names = append(names, f.Name())
	}
	for _, want := range pqFields[kind] {
		var node parquet.Node
		for _, f := range schema.Fields() {
			if f.Name() == want.name {
				node = f
			}
		}
		if node == nil {
			if want.required {
				return nil, fmt.Errorf("job: %s: no column %q; the file's columns: %s", name, want.name, strings.Join(names, ", "))
			}
			continue
		}
		c, found := pqLayout(schema, want, node)
		if found != "" {
			return nil, fmt.Errorf("job: %s: column %q holds %s; want %s", name, want.name, found, want.want())
		}
		cols = append(cols, c)
	}
	if kind == Collect && len(cols) == 0 {
		return nil, fmt.Errorf("job: %s: no column \"text\" or \"ids\"; the file's columns: %s", name, strings.Join(names, ", "))
	}
	return cols, nil
}

// pqLayout returns the column of field want found at node, a top-level
// field of schema, or, when node holds something else, a description of
// what it holds.
func pqLayout(schema *parquet.Schema, want pqField, node parquet.Node) (pqColumn, string) {
	path := []string{want.name}
	defs, reps, emptyDef := 0, 0, 0
	for {
		if node.Optional() {
			defs++
		}
		if node.Repeated() {
			if reps == 0 {
				emptyDef = defs
			}
			defs++
			reps++
		}
		if node.Leaf() {
			break
		}
		fields := node.Fields()
		if len(fields) != 1 {
			return pqColumn{}, fmt.Sprintf("a group of %d columns (a struct or a map)", len(fields))
		}
		node = fields[0]
		path = append(path, fields[0].Name())
	}
	one, many, isStr, isInt, unsigned := pqScalar(node.Type())
	var found string
	switch reps {
	case 0:
		found = one
	case 1:
		found = "a list of " + many
	default:
		found = "a list of lists"
	}
	if (reps == 1) != want.list || (want.str && !isStr) || (!want.str && !isInt) {
		if reps > 0 && !node.Leaf() {
			found = "a list of groups"
		}
		return pqColumn{}, found
	}
	leaf, ok := schema.Lookup(path...)
	if !ok || leaf.MaxDefinitionLevel != defs {
		return pqColumn{}, "a column the reader cannot locate"
	}
	return pqColumn{pqField: want, leaf: leaf.ColumnIndex, unsigned: unsigned, emptyDef: emptyDef, maxDef: defs}, ""
}

// pqScalar describes a leaf type t, one value and several ("an integer",
// "integers"; "a DOUBLE value", "DOUBLE values"), and says whether it is
// read as a string (BYTE_ARRAY, plain or STRING or ENUM) or an integer
// (INT32 or INT64, plain or INT(bits, signed)), and whether an integer is
// unsigned.
func pqScalar(t parquet.Type) (one, many string, isStr, isInt, unsigned bool) {
	lt := t.LogicalType()
	var lv format.LogicalTypeValue
	if lt != nil {
		lv = lt.Value
	}
	switch t.Kind() {
	case parquet.ByteArray:
		switch lv.(type) {
		case nil, *format.StringType, *format.EnumType:
			return "a string", "strings", true, false, false
		}
	case parquet.Int32, parquet.Int64:
		switch v := lv.(type) {
		case nil:
			return "an integer", "integers", false, true, false
		case *format.IntType:
			return "an integer", "integers", false, true, !v.IsSigned
		}
	}
	name := t.String()
	if lv != nil {
		name = lv.String()
	}
	return "a " + name + " value", name + " values", false, false, false
}

// readRowGroup reads row group rg (number g, its first row at index start
// in the file) from its row skip on, calling fn on each row as
// parquetRows does.
func readRowGroup(name, kind string, rg parquet.RowGroup, g, start, skip int, cols []pqColumn, fn func(r row, rec []byte) error) error {
	rows := rg.Rows()
	defer rows.Close()
	if skip > 0 {
		if err := rows.SeekToRow(int64(skip)); err != nil {
			return fmt.Errorf("job: %s: row %d: seeking in row group %d: %w", name, start+skip, g, err)
		}
	}
	n := int(rg.NumRows())
	buf := make([]parquet.Row, parquetBatch)
	idx := start + skip
	for idx < start+n {
		k, err := rows.ReadRows(buf[:min(len(buf), start+n-idx)])
		for _, pr := range buf[:k] {
			r, err := parquetRow(name, pr, idx, cols)
			if err != nil {
				return err
			}
			if err := checkRow(name, kind, r); err != nil {
				return err
			}
			rec, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("job: %s: row %d: %w", name, idx, err)
			}
			if err := fn(r, rec); err != nil {
				return err
			}
			idx++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("job: %s: row %d: corrupt Parquet data: %w", name, idx, err)
		}
		if k == 0 {
			break // no progress: the reader ended without saying so
		}
	}
	if idx != start+n {
		return fmt.Errorf("job: %s: row group %d ends at row %d, its footer says %d rows (to row %d): truncated or corrupt", name, g, idx, n, start+n)
	}
	return nil
}

// parquetRow converts the Parquet row pr (row index idx) into a row with
// cols' fields; a null scalar or list stays nil, as a missing JSON field.
// It returns an error naming the row and the column for a null list
// element, an integer out of range or a string that is not UTF-8.
func parquetRow(name string, pr parquet.Row, idx int, cols []pqColumn) (row, error) {
	r := row{line: idx, parquet: true}
	for _, c := range cols {
		fail := func(format string, args ...any) (row, error) {
			return row{}, fmt.Errorf("job: %s: row %d: column %q: %s; want %s", name, idx, c.name, fmt.Sprintf(format, args...), c.want())
		}
		var strs []string
		var ints []int
		present := false
		for _, v := range pr {
			if v.Column() != c.leaf {
				continue
			}
			def := v.DefinitionLevel()
			if c.list {
				if def < c.emptyDef {
					break // a null list
				}
				present = true
				if def == c.emptyDef {
					break // an empty list
				}
			}
			if def < c.maxDef {
				if c.list {
					return fail("element %d is null", max(len(strs), len(ints)))
				}
				break // a null scalar
			}
			present = true
			if c.str {
				b := v.ByteArray()
				if !utf8.Valid(b) {
					if c.list {
						return fail("element %d is not valid UTF-8", len(strs))
					}
					return fail("not valid UTF-8")
				}
				strs = append(strs, string(b))
				continue
			}
			var n int64
			switch k := v.Kind(); {
			case k == parquet.Int32 && c.unsigned:
				n = int64(uint32(v.Int32()))
			case k == parquet.Int32:
				n = int64(v.Int32())
			case c.unsigned && v.Uint64() > math.MaxInt64:
				return fail("element %d is %d, out of range", len(ints), v.Uint64())
			default:
				n = v.Int64()
			}
			if n > math.MaxInt || n < math.MinInt {
				return fail("element %d is %d, out of range", len(ints), n)
			}
			ints = append(ints, int(n))
		}
		if !present {
			continue
		}
		switch {
		case c.list && c.str:
			strs = nonNil(strs)
			if c.name == "sources" {
				r.Sources = strs
			} else {
				r.Targets = strs
			}
		case c.list:
			r.IDs = nonNil(ints)
		default:
			if len(strs) != 1 {
				return fail("%d values in one row", len(strs))
			}
			s := strs[0]
			switch c.name {
			case "text":
				r.Text = &s
			case "base":
				r.Base = &s
			case "source":
				r.Source = &s
			case "label":
				r.Label = &s
			}
		}
	}
	return r, nil
}

// nonNil returns s, or an empty slice for nil (a present, empty list).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
