package session

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// goListDeps returns the packages package session depends on (itself
// included), each as "path standard cgo" with cgo "cgo" when the package
// has cgo files, under the extra environment env.
func goListDeps(t *testing.T, env ...string) map[string][2]bool {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{.Standard}} {{if .CgoFiles}}cgo{{else}}-{{end}}`, ".")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := map[string][2]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		deps[f[0]] = [2]bool{f[1] == "true", f[2] == "cgo"}
	}
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %v", deps)
	}
	return deps
}

// TestClientDeps checks that a program using the client links no GoMLX,
// no other govene package and no module outside the standard library, and
// needs no cgo: with CGO_ENABLED=0 nothing of cgo is left. (With cgo on,
// the standard library's net brings runtime/cgo for its system DNS
// resolver, as in any Go program that uses net; it links internally,
// without a C toolchain, and is built once into the Go cache.)
func TestClientDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for path, d := range goListDeps(t) {
		std, cgo := d[0], d[1]
		switch {
		case strings.HasPrefix(path, "github.com/gomlx/"):
			t.Errorf("package session depends on %s: the client must not link GoMLX", path)
		case !std && path != ModulePath+"/session":
			t.Errorf("package session depends on %s: the client must use the standard library only", path)
		case cgo && path != "net" && path != "runtime/cgo":
			t.Errorf("package session depends on %s, which uses cgo", path)
		}
	}
	for path := range goListDeps(t, "CGO_ENABLED=0") {
		if path == "C" || path == "runtime/cgo" {
			t.Errorf("with CGO_ENABLED=0 package session still depends on %s", path)
		}
	}
}
