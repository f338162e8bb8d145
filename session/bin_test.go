package session

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFindBinary checks the rule's order: $GOVENE_BIN, then PATH, then a
// build into the user cache from the module this program comes from (here
// the govene module itself, as for its tests).
func TestFindBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the govene binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	tmp := t.TempDir()
	fake := filepath.Join(tmp, "path", "govene")
	if err := os.MkdirAll(filepath.Dir(fake), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	path := os.Getenv("PATH")

	t.Setenv(EnvBin, fake)
	if got, err := FindBinary(ctx); got != fake || err != nil {
		t.Errorf("with $%s: %q, %v", EnvBin, got, err)
	}
	t.Setenv(EnvBin, filepath.Join(tmp, "none"))
	if _, err := FindBinary(ctx); err == nil || !strings.Contains(err.Error(), "is not an executable file") {
		t.Errorf("with a missing $%s: %v", EnvBin, err)
	}

	t.Setenv(EnvBin, "")
	t.Setenv("PATH", filepath.Dir(fake)+string(os.PathListSeparator)+filepath.Dir(goBin))
	if got, err := FindBinary(ctx); got != fake || err != nil {
		t.Errorf("from PATH: %q, %v", got, err)
	}

	t.Setenv("PATH", path)
	if _, err := exec.LookPath("govene"); err == nil {
		t.Skip("a govene binary is on PATH: FindBinary would not build")
	}
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOCACHE", strings.TrimSpace(string(gocache))) // keep Go's build cache
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	got, err := FindBinary(ctx)
	if err != nil {
		t.Fatalf("building: %v", err)
	}
	if !strings.HasPrefix(got, filepath.Join(tmp, "cache", "govene", "bin")) {
		t.Errorf("built %s, want it under the user cache", got)
	}
	out, err := exec.Command(got, "session", "-h").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "govene session serve") {
		t.Errorf("the built binary: %v\n%s", err, out)
	}
}
