package job

import (
	"fmt"
	"io"
	"os"
)

// eachRow reads the rows of dataset name (open in f) for kind, checking each
// one, from a shard's start on: for JSONL the line at byte offset off with
// line index first, for Parquet (isParquet) row index first (off unused).
// It calls fn with each row, the bytes a shard's RowsSHA256 covers (the
// trimmed JSON line, or the Parquet row's JSON encoding) and the byte
// offset of its line (0 for Parquet), until fn returns errStop or an error
// or the rows end. When tee is not nil, the whole file from off is written
// to it (for the dataset's sha256). It returns fn's error or an error naming
// the file, the line or row and the field of a bad row.
func eachRow(name, kind string, f *os.File, tee io.Writer, off int64, first int, fn func(r row, rec []byte, offset int64) error) error {
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("job: dataset %s: %w", name, err)
	}
	if isParquet(name) {
		if tee != nil {
			if _, err := io.Copy(tee, f); err != nil {
				return fmt.Errorf("job: dataset %s: %w", name, err)
			}
		}
		return parquetRows(name, kind, f, first, func(r row, rec []byte) error { return fn(r, rec, 0) })
	}
	var in io.Reader = f
	if tee != nil {
		in = io.TeeReader(f, tee)
	}
	return scanLines(name, in, off, first, func(l line) error {
		r, err := parseRow(name, kind, l)
		if err != nil {
			return err
		}
		return fn(r, l.data, l.offset)
	})
}
