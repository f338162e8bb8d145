package facts

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoGoMLXDeps keeps the package plain data: a notebook cell that uses
// only a session client builds it without GoMLX or cgo.
func TestNoGoMLXDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/govene/govene/shipped/facts").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	for _, d := range deps {
		if strings.Contains(d, "gomlx") || d == "runtime/cgo" || d == "C" {
			t.Errorf("shipped/facts depends on %s; it must stay free of GoMLX and cgo", d)
		}
	}
}
