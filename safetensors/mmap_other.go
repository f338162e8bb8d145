//go:build !unix

package safetensors

import "os"

// mapFile reads the first size bytes of fd into memory: this platform has
// no syscall.Mmap, so the data section is copied once (unmap is nil).
func mapFile(fd *os.File, size int) ([]byte, func() error, error) {
	return readAll(fd, size)
}

func dropPages(b []byte) {}
