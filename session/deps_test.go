package session

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// goListDeps returns the packages package pkg depends on (itself
// included), each as [standard, cgo] with cgo true when the package has
// cgo files, under the extra environment env ("": none).
func goListDeps(t *testing.T, env, pkg string) map[string][2]bool {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{.Standard}} {{if .CgoFiles}}cgo{{else}}-{{end}}`, pkg)
	cmd.Env = os.Environ()
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
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

// TestClientDeps checks that a program using the client links no GoMLX
// and no govene package but the plain data (the root package), the
// session client itself and the GoMLX-free internal/progress (training
// progress shown in the caller's process) with its modules, and needs no
// cgo: with CGO_ENABLED=0 nothing of cgo is left. (With cgo on, the
// standard library's net and os/user (which klog, under internal/progress,
// uses) bring runtime/cgo for the system's resolvers, as in any Go
// program that uses them; without a C toolchain the go command builds
// them without cgo.)
func TestClientDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	allowed := map[string]bool{ModulePath: true, ModulePath + "/session": true, ModulePath + "/internal/tensorwire": true}
	for path, d := range goListDeps(t, "", "./../internal/progress") {
		if !d[0] {
			allowed[path] = true
		}
	}
	if !allowed[ModulePath+"/internal/progress"] {
		t.Fatalf("go list -deps of internal/progress does not list it: %v", allowed)
	}
	for path, d := range goListDeps(t, "", ".") {
		std, cgo := d[0], d[1]
		switch {
		case strings.HasPrefix(path, "github.com/gomlx/"):
			t.Errorf("package session depends on %s: the client must not link GoMLX", path)
		case !std && !allowed[path]:
			t.Errorf("package session depends on %s: the client may use only the standard library, govene's plain data and internal/progress", path)
		case cgo && path != "net" && path != "os/user" && path != "runtime/cgo":
			t.Errorf("package session depends on %s, which uses cgo", path)
		}
	}
	for path := range goListDeps(t, "CGO_ENABLED=0", ".") {
		if path == "C" || path == "runtime/cgo" {
			t.Errorf("with CGO_ENABLED=0 package session still depends on %s", path)
		}
	}
}
