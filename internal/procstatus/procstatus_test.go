package procstatus

import (
	"os"
	"testing"
)

func TestBytes(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc/self/status here")
	}
	rss, peak := Bytes("VmRSS"), Bytes("VmHWM")
	if rss < 1<<20 || peak < rss {
		t.Errorf("VmRSS %d, VmHWM %d bytes: want at least 1 MiB and peak >= current", rss, peak)
	}
	for _, name := range []string{"NoSuchField", "Name", ""} { // missing; not a size; empty
		if got := Bytes(name); got != 0 {
			t.Errorf("Bytes(%q) = %d, want 0", name, got)
		}
	}
}
