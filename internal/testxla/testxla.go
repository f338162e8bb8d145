// Package testxla holds the test helper that the multi-device tests of
// several packages share: the XLA CPU plugin's backend, whose 4 host
// devices stand in for a machine's accelerators. It is apart from
// internal/testx, which must stay free of GoMLX.
package testxla

import (
	"os"
	"testing"

	"github.com/gomlx/compute"
	"github.com/govene/govene/backend"
)

// RequireEnv is the environment variable that turns a missing plugin from
// a skip into a failure (make test sets it).
const RequireEnv = "GOVENE_REQUIRE_XLA"

// Devices returns the installed XLA CPU plugin's backend, which has 4 host
// devices. Without the plugin it skips t, unless GOVENE_REQUIRE_XLA is set,
// where it fails t; it fails t too when the backend does not load or has
// fewer than 2 devices.
func Devices(t testing.TB) compute.Backend {
	t.Helper()
	if backend.InstalledPlugin() == "" {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%s is set but no XLA PJRT CPU plugin is installed (looked in %v)", RequireEnv, backend.PluginPaths())
		}
		t.Skip("no XLA PJRT CPU plugin installed; run make pjrt-cpu")
	}
	b, err := backend.For(backend.Workload{Backend: "xla"})
	if err != nil {
		t.Fatal(err)
	}
	if b.NumDevices() < 2 {
		t.Fatalf("the XLA CPU plugin reports %d device(s); the multi-device tests need at least 2", b.NumDevices())
	}
	return b
}
