package safetensors

import (
	"fmt"
	"math"
	"os"

	"github.com/govene/govene/internal/fsx"
)

// Open memory-maps the file at path read-only (reading it into memory where
// mmap is unavailable or fails) and validates it as described in the package
// documentation. The data section is not copied. The caller must Close the
// File to release the mapping.
//
// The path must be a regular file or a link to one: a directory, a named
// pipe or a device (such as a link to /dev/zero) is refused before it is
// opened, with an error wrapping fsx.ErrNotRegular that says what it is.
// The header length is capped at MaxHeaderSize and checked against the
// file's size before the header is read.
//
// Errors: an I/O error (missing file, permission, ...) is returned wrapped
// with the path; a malformed file gives a [*FormatError] (errors.Is(err,
// ErrInvalid)) naming path, the tensor and the problem. On error nothing
// stays mapped and the *File is nil.
func Open(path string) (*File, error) {
	fd, size, err := fsx.Open(path, "a safetensors file", fsx.Unlimited)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fd.Close() // a mapping outlives its descriptor
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
