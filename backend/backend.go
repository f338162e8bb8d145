// Package backend chooses the GoMLX compute backend govene runs on.
//
// The backends are the one piece of global state in govene: every model
// loaded without an explicit backend shares one, created once per
// configuration and reported once, in one line on stderr (SetReport moves or
// silences it).
//
// # The choice
//
// The choice depends on the workload (For) because XLA compiles every graph
// before its first call, which takes seconds on the CPU, while the pure-Go
// backend starts at once: on the shipped model the demo's causal trace takes
// about 1.9 s on the pure-Go backend and 18 s on the XLA CPU plugin. XLA's
// CPU plugin runs a compiled graph 2.4x (batch 1 x 16 tokens) to 4x (8 x 64)
// faster, so it pays off only when the calls that reuse its compiled graphs
// are long enough. In order:
//
//  1. an explicit configuration (Workload.Backend, the command line's
//     -backend flag) is used as given;
//  2. GOMLX_BACKEND is honoured ("go", "xla:cuda", "xla:/abs/path/plugin.so",
//     with GoMLX's backend options after the colon; "xla" and "xla:cpu" mean
//     the installed CPU plugin when there is one, see PluginPaths);
//  3. without an XLA PJRT CPU plugin installed where govene looks for one,
//     the pure-Go backend;
//  4. with one, XLA when the workload's Work (parameters x tokens run
//     through them) is at least XLAMinWork, else the pure-Go backend. An
//     unknown workload (Default, a zero Workload) counts as small: one-off
//     calls and notebook cells are where compiling costs most.
//
// The pure-Go backend runs its ops one at a time ("go:ops_sequential"): each
// matmul is still parallel, and the scheduler cannot deadlock on wide graphs
// (it does, in GoMLX v0.28.2, when many large independent ops run at once).
// Built without GOEXPERIMENT=simd, the pure-Go backend has no SIMD matmul and
// is several times slower; govene then warns once on stderr.
package backend

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
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

// XLAMinWork is the Work (parameters x tokens) from which For picks an
// installed XLA CPU plugin over the pure-Go backend: 1e11. It is calibrated
// on measurements on govene's 2-core development machine, where XLA compiles
// a workload's graphs in 2.5-16 s and then runs them 3-6.5x faster:
//
//	workload                                      work     faster on
//	shipped model, demo trace (7.2M x 602)        4.4e9    pure Go (1.9 s vs 18 s)
//	GPT-2 small, one forward 1x16 (124M x 16)     2.0e9    pure Go (0.57 s vs 1.97 s)
//	GPT-2 small, 32 generated tokens              ~5e10    about even (3.3 s on XLA)
//	shipped model, retrain -bench 21 (7.2M x 32k) 2.3e11   XLA (155 vs 1012 ms/step)
//	GPT-2 small, trace 12 layers x 16 (124M x 9k) 1.1e12   XLA (6.0 s incl. compile)
//	shipped model, full retrain (7.2M x 3.8M)     2.8e13   XLA (7 min vs 44 min)
//
// For a causal trace govene counts a prompt of n tokens and L layers as
// n x (2 + 3 L n) tokens; for training, three forward passes per token.
const XLAMinWork = 1e11

// Workload describes what a backend is chosen for (see For). The zero value
// is an unknown workload, which gets the pure-Go backend unless
// GOMLX_BACKEND or Backend says otherwise.
type Workload struct {
	// Name says what runs, for the one-line report ("causal trace").
	Name string
	// Params is the model's parameter count.
	Params int64
	// Tokens is how many tokens all the calls together run through the
	// model: batch x sequence length x calls.
	Tokens int64
	// Backend, when not empty, is an explicit choice that overrides
	// everything else (the -backend flag): "go", "xla" (the installed CPU
	// plugin), "auto" (the same as empty), or a GoMLX configuration such as
	// "xla:cuda" or "xla:/abs/path/plugin.so".
	Backend string
}

// Work returns Params x Tokens, the size For compares with XLAMinWork (0 when
// either is not positive).
func (w Workload) Work() float64 {
	if w.Params <= 0 || w.Tokens <= 0 {
		return 0
	}
	return float64(w.Params) * float64(w.Tokens)
}

var (
	mu      sync.Mutex
	created = map[string]compute.Backend{}
	// chosenAs is the configuration of the backend last returned by For.
	chosenAs string
	// report is where the one-line report of each choice goes; nil for silence.
	report io.Writer = os.Stderr
	// warnedSIMD is set once the missing-SIMD warning was written.
	warnedSIMD bool
)

// SetReport sets where For and Default write their one-line report of the
// backend they chose, and the warning about a build without SIMD (os.Stderr
// by default; nil silences both).
func SetReport(w io.Writer) {
	mu.Lock()
	defer mu.Unlock()
	report = w
}

// PluginPaths returns the places, in order, where govene looks for an
// installed XLA PJRT CPU plugin: $GOVENE_PJRT_PLUGIN, then
// pjrt_c_api_cpu_plugin.so in $XDG_DATA_HOME/govene (default
// ~/.local/share/govene, where make test installs it) and
// /usr/local/lib/govene.
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

// InstalledPlugin returns the absolute path of the first XLA PJRT CPU plugin
// found at PluginPaths, or "" when none is installed.
func InstalledPlugin() string {
	for _, p := range PluginPaths() {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
			return p
		}
	}
	return ""
}

// Config returns the configuration Default would use and why: For's choice
// for an unknown workload.
func Config() (config, reason string) {
	return Choose(Workload{}, os.Getenv(EnvVar), InstalledPlugin())
}

// Choose is For's decision without creating anything: the GoMLX
// configuration for workload w given the value of GOMLX_BACKEND (env, "" when
// unset) and the installed XLA CPU plugin's path (plugin, "" when none), and
// a one-line reason. It never fails: an explicit choice it cannot resolve
// ("xla" with no plugin installed) is returned as given, and New reports the
// error.
func Choose(w Workload, env, plugin string) (config, reason string) {
	resolve := func(c string) string {
		switch c {
		case "go":
			return GoConfig
		case "xla", "xla:cpu":
			if plugin != "" {
				return "xla:" + plugin
			}
		}
		return c
	}
	switch b := strings.TrimSpace(w.Backend); {
	case b != "" && b != "auto":
		return resolve(b), "chosen with -backend " + b
	}
	if env != "" && env != "auto" {
		return resolve(env), EnvVar + "=" + env
	}
	override := fmt.Sprintf("; %s=go|xla (or -backend) overrides", EnvVar)
	if plugin == "" {
		return GoConfig, "no XLA plugin installed (make pjrt-cpu installs one)" + override
	}
	what := w.Name
	if what == "" {
		what = "this workload"
	}
	work := w.Work()
	if work == 0 {
		return GoConfig, "workload unknown: XLA's compile would likely cost more than it saves" + override
	}
	size := fmt.Sprintf("%s: %s parameters x %s tokens = %.1e", what, count(w.Params), count(w.Tokens), work)
	if work < XLAMinWork {
		return GoConfig, fmt.Sprintf("%s < %.0e, too small for XLA's compile to pay off%s", size, XLAMinWork, override)
	}
	return "xla:" + plugin, fmt.Sprintf("%s >= %.0e, large enough for XLA's compile to pay off%s", size, XLAMinWork, override)
}

// count formats n as 124M, 1.56B, 3.6k.
func count(n int64) string {
	f := float64(n)
	for _, u := range []struct {
		div  float64
		unit string
	}{{1e9, "B"}, {1e6, "M"}, {1e3, "k"}} {
		if f >= u.div {
			return strconv.FormatFloat(f/u.div, 'g', 3, 64) + u.unit
		}
	}
	return strconv.FormatInt(n, 10)
}

// For returns the backend for workload w, chosen as the package comment
// says (see Choose), creating it on first use and writing one line naming it
// and why to the report writer (SetReport) the first time each backend is
// created. An unknown backend name or a plugin that fails to load is an
// error naming the configuration, the registered backends and how to choose
// another.
func For(w Workload) (compute.Backend, error) {
	config, reason := Choose(w, os.Getenv(EnvVar), InstalledPlugin())
	mu.Lock()
	defer mu.Unlock()
	if b, ok := created[config]; ok {
		chosenAs = config
		return b, nil
	}
	b, err := New(config)
	if err != nil {
		return nil, err
	}
	created[config], chosenAs = b, config
	if report != nil {
		name, _, _ := strings.Cut(config, ":")
		fmt.Fprintf(report, "govene: backend %s [%s]: %s\n", name, homeRelative(config), homeRelative(reason))
		if msg := simdWarning(name, simdBuild); msg != "" && !warnedSIMD {
			warnedSIMD = true
			fmt.Fprintln(report, msg)
		}
	}
	return b, nil
}

// Default returns the backend for an unknown workload, For(Workload{}): the
// one GOMLX_BACKEND names, else the pure-Go backend. Models loaded without an
// explicit backend use it.
func Default() (compute.Backend, error) {
	return For(Workload{})
}

// simdWarning returns the warning For writes when the pure-Go backend
// (registered name "go") runs in a binary built without GOEXPERIMENT=simd, else "".
func simdWarning(name string, simd bool) string {
	if name != "go" || simd {
		return ""
	}
	return "govene: built without GOEXPERIMENT=simd: the pure-Go backend runs several times slower (3-5x on govene demo); rebuild with GOEXPERIMENT=simd (go build, go run and go test all need it; the Makefile sets it)"
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
		if config == "xla" || config == "xla:cpu" {
			hint = fmt.Sprintf(" (no XLA CPU plugin installed at %s; make pjrt-cpu installs one, or give a plugin's absolute path, %s=xla:/abs/path/pjrt_plugin.so)", strings.Join(PluginPaths(), ", "), EnvVar)
		} else if name == "xla" {
			hint = fmt.Sprintf(" (for XLA give the plugin's absolute path, %s=xla:/abs/path/pjrt_plugin.so, or unset %s to use the pure-Go backend)", EnvVar, EnvVar)
		}
		return nil, fmt.Errorf("backend: %q: %w%s", config, err, hint)
	}
	return b, nil
}

// Chosen returns the configuration string of the backend For or Default
// last returned, or "" before either was first called.
func Chosen() string {
	mu.Lock()
	defer mu.Unlock()
	return chosenAs
}

// homeRelative writes the user's home folder as ~ in s, so that the backend
// line saved in a notebook's outputs does not carry the author's paths.
func homeRelative(s string) string {
	home, err := os.UserHomeDir()
	if err != nil || len(home) < 2 {
		return s
	}
	return strings.ReplaceAll(s, home+string(os.PathSeparator), "~"+string(os.PathSeparator))
}
