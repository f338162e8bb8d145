package testx

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// PeakRSS returns the process's peak resident memory in bytes (Linux's
// VmHWM) and whether it could be read.
func PeakRSS() (int64, bool) {
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

// peakEnv names the variable that tells the child process which argument
// to load.
const peakEnv = "GOVENE_PEAKTEST_ARG"

// MeasureInChild is the child's half of ChildPeak: when this process was
// started by ChildPeak, it runs load on ChildPeak's argument, prints the
// peak resident memory before and after, and returns true (the test must
// then return at once). Otherwise it returns false and does nothing.
func MeasureInChild(load func(arg string) (any, error)) bool {
	a := os.Getenv(peakEnv)
	if a == "" {
		return false
	}
	before, _ := PeakRSS()
	v, err := load(a)
	if err != nil {
		fmt.Println("ERR", err)
		return true
	}
	after, _ := PeakRSS()
	runtime.KeepAlive(v)
	fmt.Printf("PEAK %d %d\n", before, after)
	return true
}

// ChildPeak runs this test binary's test again in a fresh process, where
// MeasureInChild loads arg, and returns the peak resident memory the load
// added (Linux's VmHWM). It skips t off Linux and fails it when the child
// fails or reports nothing.
func ChildPeak(t *testing.T, test, arg string) int64 {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/status")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), peakEnv+"="+arg)
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
	return after - before
}
