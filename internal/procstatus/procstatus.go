// Package procstatus reads memory figures of the running process from
// Linux's /proc/self/status.
package procstatus

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Bytes returns the /proc/self/status field name ("VmRSS", "VmHWM"...), a
// size in kB there, in bytes; 0 where /proc is not available or the field
// is missing or not a size.
func Bytes(name string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
