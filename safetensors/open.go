package safetensors

import (
	"fmt"
	"math"
	"os"
)

// Open memory-maps the file at path read-only (reading it into memory where
// mmap is unavailable or fails) and validates it as described in the package
// documentation. The data section is not copied. The caller must Close the
// File to release the mapping.
//
// Errors: an I/O error (missing file, permission, ...) is returned wrapped
// with the path; a malformed file gives a [*FormatError] (errors.Is(err,
// ErrInvalid)) naming path, the tensor and the problem. On error nothing
// stays mapped and the *File is nil.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fd.Close() // a mapping outlives its descriptor
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("safetensors: %s: not a regular file (%s)", path, st.Mode().Type())
	}
	size := st.Size()
	if size > math.MaxInt {
		return nil, fmt.Errorf("safetensors: %s: file of %d bytes does not fit in memory", path, size)
	}
	data, unmap, err := mapFile(fd, int(size))
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	f, err := parse(path, data)
	if err != nil {
		if unmap != nil {
			_ = unmap()
		}
		return nil, err
	}
	f.unmap = unmap
	return f, nil
}

// readAll reads size bytes of fd into memory (the fallback when mmap is
// unavailable).
func readAll(fd *os.File, size int) ([]byte, func() error, error) {
	data := make([]byte, size)
	n, err := fd.ReadAt(data, 0)
	if n < size {
		return nil, nil, fmt.Errorf("read %d of %d bytes: %w", n, size, err)
	}
	return data, nil, nil
}
