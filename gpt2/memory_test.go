package gpt2

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// vmHWM returns the process's peak resident memory in bytes (Linux).
func vmHWM() (int64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

// TestLoadPeakMemory loads a float32 checkpoint in a fresh process and
// checks that the peak resident memory added by loading stays under 1.5
// times the weights' bytes (the safetensors file is memory-mapped and its
// pages are released tensor by tensor; the weights go straight into the
// backend's buffers).
func TestLoadPeakMemory(t *testing.T) {
	if dir := os.Getenv("GOVENE_MEMTEST_DIR"); dir != "" {
		before, _ := vmHWM()
		m, err := LoadDir(dir, Options{})
		if err != nil {
			fmt.Println("ERR", err)
			return
		}
		after, _ := vmHWM()
		runtime.KeepAlive(m)
		fmt.Printf("PEAK %d %d\n", before, after)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/status")
	}
	c := DefaultConfig() // GPT-2 small: 124M parameters, 498 MB in float32
	m, err := Random(c, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	weights := int64(c.NumParams()) * 4
	m = nil
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadPeakMemory$")
	cmd.Env = append(os.Environ(), "GOVENE_MEMTEST_DIR="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	var before, after int64
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "PEAK ") {
			fmt.Sscanf(line, "PEAK %d %d", &before, &after)
		}
		if strings.HasPrefix(line, "ERR ") {
			t.Fatal(line)
		}
	}
	if after == 0 {
		t.Fatalf("no measurement from the child:\n%s", out.String())
	}
	ratio := float64(after-before) / float64(weights)
	t.Logf("weights %.0f MB, peak added by loading %.0f MB (%.2fx)", float64(weights)/1e6, float64(after-before)/1e6, ratio)
	if ratio > 1.5 {
		t.Errorf("loading peaked at %.2fx the weights' bytes, want under 1.5x", ratio)
	}
}
