package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSessionCommandLine checks govene session's help and the errors that
// come before serving or connecting.
func TestSessionCommandLine(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("GONB_TMP_DIR", "")
	t.Setenv("GOVENE_SESSION", "")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "no subcommand", args: []string{"session"}, code: 2, stderr: []string{"govene session serve", "govene session ls", "govene session stop"}},
		{name: "-h", args: []string{"session", "-h"}, code: 0, stdout: []string{"long-lived govene process", "-listen HOST:PORT"}},
		{name: "help session", args: []string{"help", "session"}, code: 0, stdout: []string{"govene session serve"}},
		{name: "govene -h lists it", args: []string{"-h"}, code: 0, stdout: []string{"govene session serve|ls|stop"}},
		{name: "unknown subcommand", args: []string{"session", "start"}, code: 2, stderr: []string{`govene session: unknown command "start"; the commands are: serve, ls, stop`}},
		{name: "serve -h", args: []string{"session", "serve", "-h"}, code: 0, stdout: []string{"-idle duration", "-watch-pid", "-token-file"}},
		{name: "serve stray argument", args: []string{"session", "serve", "x"}, code: 2, stderr: []string{`govene session serve: unexpected argument "x"`}},
		{name: "serve bad name", args: []string{"session", "serve", "-name", "../x"}, code: 1, stderr: []string{`session: name "../x" is not valid`}},
		{name: "serve socket and listen", args: []string{"session", "serve", "-socket", "a", "-listen", "b"}, code: 1, stderr: []string{"give -socket or -listen, not both"}},
		{name: "serve bad listen", args: []string{"session", "serve", "-listen", "nohost", "-dir", filepath.Join(t.TempDir(), "d")}, code: 1, stderr: []string{`-listen "nohost" is not HOST:PORT`}},
		{name: "ls with none", args: []string{"session", "ls"}, code: 0, stdout: []string{"no sessions"}},
		{name: "stop with none", args: []string{"session", "stop"}, code: 0, stdout: []string{"no sessions"}},
		{name: "ls remote without token", args: []string{"session", "ls", "-addr", "127.0.0.1:1"}, code: 1, stderr: []string{"needs Options.Token"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}
