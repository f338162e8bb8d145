// Package backend chooses the GoMLX compute backend govene runs on.
//
// The choice is the one piece of global state in govene: every model loaded
// without an explicit backend shares it. GOMLX_BACKEND is honoured ("go",
// "xla:cuda", "xla:cpu", "xla:/abs/path/plugin.so", with GoMLX's backend
// options after the colon). Without it, govene uses an XLA PJRT CPU plugin
// installed where govene looks for one (see PluginPaths), else the pure-Go
// backend. The pure-Go backend runs its ops one at a time
// ("go:ops_sequential"): each matmul is still parallel, and the scheduler
// cannot deadlock on wide graphs (it does, in GoMLX v0.28.2, when many large
// independent ops run at once).
package backend

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"  // registers "go"
	_ "github.com/gomlx/go-xla/compute/xla" // registers "xla"
)

// EnvVar is GoMLX's variable for the backend configuration.
const EnvVar = "GOMLX_BACKEND"

// GoConfig is the configuration govene uses for the pure-Go backend when the
// user does not choose one.
const GoConfig = "go:ops_sequential"

// PluginEnvVar names an XLA PJRT plugin (.so) that govene uses when
// GOMLX_BACKEND is unset.
const PluginEnvVar = "GOVENE_PJRT_PLUGIN"

var (
	mu       sync.Mutex
	chosen   compute.Backend
	chosenAs string
	// Report is where the one-line report of the choice goes; nil for silence.
	report io.Writer = os.Stderr
)

// SetReport sets where Default writes its one-line report of the backend it
// chose (os.Stderr by default; nil silences it).
func SetReport(w io.Writer) {
	mu.Lock()
	defer mu.Unlock()
	report = w
}

// PluginPaths returns the places, in order, where govene looks for an
// installed XLA PJRT CPU plugin when GOMLX_BACKEND is unset: $GOVENE_PJRT_PLUGIN,
// then pjrt_c_api_cpu_plugin.so in $XDG_DATA_HOME/govene (default
// ~/.local/share/govene) and /usr/local/lib/govene.
func PluginPaths() []string {
	var paths []string
	if p := os.Getenv(PluginEnvVar); p != "" {
		paths = append(paths, p)
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		if home, err := os.UserHomeDir(); err == nil {
			data = filepath.Join(home, ".local", "share")
		}
	}
	if data != "" {
		paths = append(paths, filepath.Join(data, "govene", "pjrt_c_api_cpu_plugin.so"))
	}
	return append(paths, "/usr/local/lib/govene/pjrt_c_api_cpu_plugin.so")
}

// Config returns the configuration Default would use and why.
func Config() (config, reason string) {
	if c, ok := os.LookupEnv(EnvVar); ok && c != "" {
		if c == "go" {
			return GoConfig, EnvVar + "=go"
		}
		return c, EnvVar + "=" + c
	}
	for _, p := range PluginPaths() {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			abs, _ := filepath.Abs(p)
			return "xla:" + abs, "XLA PJRT plugin found at " + abs
		}
	}
	return GoConfig, "pure-Go backend (no XLA plugin installed and " + EnvVar + " unset)"
}

// Default returns the process-wide backend, creating it on first use as
// Config describes and reporting the choice once. An unknown backend name or a
// plugin that fails to load is an error naming the configuration, the
// registered backends and how to choose another.
func Default() (compute.Backend, error) {
	mu.Lock()
	defer mu.Unlock()
	if chosen != nil {
		return chosen, nil
	}
	config, reason := Config()
	b, err := New(config)
	if err != nil {
		return nil, err
	}
	chosen, chosenAs = b, config
	if report != nil {
		fmt.Fprintf(report, "govene: backend %s [%s]: %s\n", b.Name(), config, reason)
	}
	return b, nil
}

// New creates a backend from a GoMLX configuration string ("go",
// "go:ops_sequential", "xla:cuda", "xla:/abs/plugin.so"). It returns an error,
// never panics, when the backend is unknown or fails to start.
func New(config string) (b compute.Backend, err error) {
	name, _, _ := strings.Cut(config, ":")
	known := compute.List()
	found := false
	for _, k := range known {
		found = found || k == name
	}
	if !found {
		return nil, fmt.Errorf("backend: %q: unknown backend %q; registered backends: %v (set %s to one of them)",
			config, name, known, EnvVar)
	}
	if name == "xla" {
		// Never try to download a plugin from the network: that hangs or fails
		// offline, and govene says how to install one instead.
		if _, ok := os.LookupEnv("GOMLX_NO_AUTO_INSTALL"); !ok {
			os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
		}
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend: %q: %v", config, r)
		}
	}()
	b, err = compute.NewWithConfig(config)
	if err != nil {
		hint := ""
		if name == "xla" {
			hint = fmt.Sprintf(" (for XLA give the plugin's absolute path, %s=xla:/abs/path/pjrt_plugin.so, or unset %s to use the pure-Go backend)", EnvVar, EnvVar)
		}
		return nil, fmt.Errorf("backend: %q: %w%s", config, err, hint)
	}
	return b, nil
}

// Chosen returns the configuration string of the backend Default chose, or ""
// before Default was first called.
func Chosen() string {
	mu.Lock()
	defer mu.Unlock()
	return chosenAs
}
