package main

import (
	"fmt"
	"strings"

	"github.com/govene/govene/backend"
)

// sessionBackend returns the GoMLX configuration a session serves with,
// and why: serve's -backend (go, xla, auto or a GoMLX configuration such
// as xla:cuda), else $GOMLX_BACKEND (env), else the installed XLA CPU
// plugin (plugin, "" when none): a session compiles each graph once and
// keeps it, so XLA's compile pays off there even for the small calls of
// notebook cells; else the pure-Go backend. An unknown backend name, or
// xla with no plugin installed, is an error naming the choices.
func sessionBackend(flagValue, env, plugin string) (config, reason string, err error) {
	choice := strings.TrimSpace(flagValue)
	if choice == "" || choice == "auto" {
		switch {
		case env != "" && env != "auto":
			choice = env
		case plugin != "":
			return "xla:" + plugin, "the installed XLA CPU plugin: a session compiles each graph once and keeps it; -backend go or " + backend.EnvVar + "=go overrides", nil
		default:
			return backend.GoConfig, "no XLA plugin installed (make pjrt-cpu installs one); -backend or " + backend.EnvVar + " overrides", nil
		}
	}
	name, _, _ := strings.Cut(choice, ":")
	if name != "go" && name != "xla" {
		return "", "", fmt.Errorf("-backend %q: unknown backend %q; give go, xla (the installed CPU plugin), auto, or a GoMLX configuration such as xla:cuda or xla:/abs/path/plugin.so", choice, name)
	}
	config, reason = backend.Choose(backend.Workload{Backend: choice}, env, plugin)
	if config == "xla" || config == "xla:cpu" {
		return "", "", fmt.Errorf("-backend %s: no XLA CPU plugin installed at %s (make pjrt-cpu installs one; or give xla:/abs/path/plugin.so)", choice, strings.Join(backend.PluginPaths(), ", "))
	}
	if flagValue == "" || flagValue == "auto" {
		reason = backend.EnvVar + "=" + env
	}
	return config, reason, nil
}
