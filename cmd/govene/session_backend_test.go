package main

import (
	"strings"
	"testing"
)

// TestSessionBackend checks serve's choice of backend: the flag, then
// GOMLX_BACKEND, then the installed plugin, then pure Go.
func TestSessionBackend(t *testing.T) {
	const plugin = "/opt/p/pjrt_c_api_cpu_plugin.so"
	tests := []struct {
		name, flag, env, plugin string
		config, reason, err     string
	}{
		{name: "auto with a plugin", flag: "auto", plugin: plugin, config: "xla:" + plugin, reason: "the installed XLA CPU plugin"},
		{name: "auto without", flag: "", config: "go:ops_sequential", reason: "no XLA plugin installed"},
		{name: "env wins over the plugin", flag: "auto", env: "go", plugin: plugin, config: "go:ops_sequential", reason: "GOMLX_BACKEND=go"},
		{name: "env xla", env: "xla", plugin: plugin, config: "xla:" + plugin, reason: "GOMLX_BACKEND=xla"},
		{name: "flag wins over env", flag: "go", env: "xla", plugin: plugin, config: "go:ops_sequential", reason: "chosen with -backend go"},
		{name: "flag xla", flag: "xla", plugin: plugin, config: "xla:" + plugin, reason: "chosen with -backend xla"},
		{name: "flag cuda", flag: "xla:cuda", config: "xla:cuda", reason: "chosen with -backend xla:cuda"},
		{name: "xla without a plugin", flag: "xla", err: "no XLA CPU plugin installed at"},
		{name: "unknown", flag: "tpu", err: `-backend "tpu": unknown backend "tpu"; give go, xla`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config, reason, err := sessionBackend(tc.flag, tc.env, tc.plugin)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("sessionBackend = %q, %v; want an error containing %q", config, err, tc.err)
				}
				return
			}
			if err != nil || config != tc.config || !strings.Contains(reason, tc.reason) {
				t.Fatalf("sessionBackend = %q, %q, %v; want %q and a reason containing %q", config, reason, err, tc.config, tc.reason)
			}
		})
	}
	code, _, stderr := runCLI(t, "session", "serve", "-backend", "tpu", "-dir", t.TempDir()+"/d")
	if code != 1 || !strings.Contains(stderr, `unknown backend "tpu"`) {
		t.Errorf("serve -backend tpu: exit %d, stderr %s", code, stderr)
	}
}
