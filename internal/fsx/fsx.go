// Package fsx opens files that come from untrusted places (a downloaded
// checkpoint folder, the Hugging Face cache, a path given by a user) without
// hanging or exhausting memory: only regular files are opened (a named pipe,
// a device such as /dev/zero, a socket or a directory is refused before it
// is opened), symbolic links are followed, and reads are capped.
package fsx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by the errors for a path that is not a regular
// file (after following symbolic links): a directory, a named pipe, a
// device, a socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the errors for a file larger than the cap its
// reader allows.
var ErrTooLarge = errors.New("file too large")

// Unlimited, given as the size cap, disables the size check.
const Unlimited = -1

// Kind names the type of a file that is not regular, for error messages:
// "a directory", "a named pipe (FIFO)", "a character device", ...
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file (mode " + m.String() + ")"
}

// Open opens path for reading if, after following symbolic links, it is a
// regular file of at most maxSize bytes (any size when maxSize is
// Unlimited). what names the kind of file in the size error ("config.json").
// The type is checked with stat before opening, so a named pipe or a device
// is never opened (opening a FIFO blocks until a writer appears); the opened file is
// checked again (it must be the same regular file) so a file swapped in
// between is caught.
//
// It returns the open file and its size. Errors: one wrapping the
// *fs.PathError of stat or open (fs.ErrNotExist, fs.ErrPermission, ...);
// one wrapping ErrNotRegular that says what the path is instead; one
// wrapping ErrTooLarge that gives the size and the cap.
func Open(path, what string, maxSize int64) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := check(path, what, st, maxSize); err != nil {
		return nil, 0, err
	}
	f, err := openNoBlock(path)
	if err != nil {
		return nil, 0, err
	}
	st2, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if err := check(path, what, st2, maxSize); err != nil {
		f.Close()
		return nil, 0, err
	}
	if !os.SameFile(st, st2) {
		f.Close()
		return nil, 0, fmt.Errorf("%s: the file changed while it was being opened", path)
	}
	return f, st2.Size(), nil
}

func check(path, what string, st fs.FileInfo, maxSize int64) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is %s: %w", path, Kind(st.Mode()), ErrNotRegular)
	}
	if maxSize >= 0 && st.Size() > maxSize {
		return fmt.Errorf("%s is %d bytes, over the %s limit for %s: %w",
			path, st.Size(), FormatSize(maxSize), what, ErrTooLarge)
	}
	return nil
}

// ReadFile returns the content of path after the checks of Open. It reads at
// most maxSize bytes (plus one to detect growth): a file that grows past
// the cap while it is read gives an error wrapping ErrTooLarge instead of
// an unbounded read.
func ReadFile(path, what string, maxSize int64) ([]byte, error) {
	f, size, err := Open(path, what, maxSize)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if maxSize >= 0 {
		r = io.LimitReader(f, maxSize+1)
	}
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	if maxSize >= 0 && int64(len(buf)) > maxSize {
		return nil, fmt.Errorf("%s grew past the %s limit for %s while it was read: %w",
			path, FormatSize(maxSize), what, ErrTooLarge)
	}
	return buf, nil
}

// FormatSize writes a byte count the way the limits are documented:
// "16 MiB (16777216 bytes)", or "512 bytes" below 1 KiB.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB (%d bytes)", n>>30, n)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB (%d bytes)", n>>20, n)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB (%d bytes)", n>>10, n)
	}
	return fmt.Sprintf("%d bytes", n)
}
