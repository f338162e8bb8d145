package nb

import (
	"bytes"
	"errors"
	"testing"
)

// stopped is what the swapped exit panics with, so a test sees the exit
// without ending the test binary.
type stopped int

// stopsWith runs f with the stopping hooks swapped and returns what it
// printed, the exit status (-1: it did not exit) and whether it synced.
func stopsWith(t *testing.T, f func()) (out string, code int, synced bool) {
	t.Helper()
	var buf bytes.Buffer
	oldErr, oldExit, oldFlush := stderr, exit, flush
	t.Cleanup(func() { stderr, exit, flush = oldErr, oldExit, oldFlush })
	stderr = &buf
	exit = func(c int) { panic(stopped(c)) }
	flush = func() { synced = true }
	code = -1
	func() {
		defer func() {
			if r := recover(); r != nil {
				c, ok := r.(stopped)
				if !ok {
					t.Fatalf("unexpected panic %v", r)
				}
				code = int(c)
			}
		}()
		f()
	}()
	return buf.String(), code, synced
}

func TestMustAndCheck(t *testing.T) {
	boom := errors.New("boom: layer 12 out of range [0, 8)")
	for _, tc := range []struct {
		name     string
		f        func()
		wantOut  string
		wantCode int
	}{
		{"Check nil", func() { Check(nil) }, "", -1},
		{"Check error", func() { Check(boom) }, "error: boom: layer 12 out of range [0, 8)\n", 1},
		{"Must nil", func() {
			if v := Must(42, nil); v != 42 {
				t.Errorf("Must(42, nil) = %d", v)
			}
		}, "", -1},
		{"Must error", func() { Must(0, boom); t.Error("Must returned after an error") }, "error: boom: layer 12 out of range [0, 8)\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code, synced := stopsWith(t, tc.f)
			if out != tc.wantOut || code != tc.wantCode {
				t.Errorf("printed %q, exit %d; want %q, exit %d", out, code, tc.wantOut, tc.wantCode)
			}
			if synced != (tc.wantCode >= 0) {
				t.Errorf("synced the notebook: %v; want %v", synced, tc.wantCode >= 0)
			}
		})
	}
}
