//go:build unix

package safetensors

import (
	"os"
	"syscall"
)

// mapFile maps the first size bytes of fd read-only and returns them with a
// function releasing the mapping. Empty files, and files on file systems
// that cannot be mapped, are read into memory instead (unmap is then nil).
func mapFile(fd *os.File, size int) ([]byte, func() error, error) {
	if size == 0 {
		return []byte{}, nil, nil
	}
	data, err := syscall.Mmap(int(fd.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return readAll(fd, size)
	}
	return data, func() error { return syscall.Munmap(data) }, nil
}

// dropPages tells the kernel the mapped bytes b are not needed for now, so
// they leave the process's resident memory (they are read again from the
// file if touched).
func dropPages(b []byte) {
	if len(b) == 0 {
		return
	}
	_ = syscall.Madvise(b, syscall.MADV_DONTNEED)
}
