package backend

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
)

func TestConfig(t *testing.T) {
	t.Setenv(EnvVar, "")
	t.Setenv(PluginEnvVar, "")
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	if c, why := Config(); c != GoConfig || !strings.Contains(why, "no XLA plugin installed") {
		t.Errorf("Config() = %q, %q; want the pure-Go backend, no plugin", c, why)
	}
	// An installed plugin no longer makes XLA the default: an unknown
	// workload runs on the pure-Go backend.
	plugin := filepath.Join(t.TempDir(), "plugin.so")
	if err := os.WriteFile(plugin, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(PluginEnvVar, plugin)
	if got := InstalledPlugin(); got != plugin {
		t.Errorf("InstalledPlugin() = %q, want %q", got, plugin)
	}
	if c, why := Config(); c != GoConfig || !strings.Contains(why, "workload unknown") {
		t.Errorf("Config() with a plugin = %q, %q; want the pure-Go backend, workload unknown", c, why)
	}
	t.Setenv(EnvVar, "xla:cpu")
	if c, _ := Config(); c != "xla:"+plugin {
		t.Errorf("GOMLX_BACKEND=xla:cpu with a plugin gives %q, want xla:%s", c, plugin)
	}
}

// TestChoose is the choice table: explicit flag, then GOMLX_BACKEND, then
// the workload's size against XLAMinWork when a plugin is installed.
func TestChoose(t *testing.T) {
	const plugin = "/p/pjrt_c_api_cpu_plugin.so"
	// The workloads of XLAMinWork's table.
	shippedDemo := Workload{Name: "causal trace", Params: 7_230_000, Tokens: 602}
	oneForward := Workload{Name: "one forward", Params: 124_000_000, Tokens: 16}
	retrainBench := Workload{Name: "training", Params: 7_230_000, Tokens: 3 * 21 * 512}
	gpt2Trace := Workload{Name: "causal trace", Params: 124_000_000, Tokens: 16 * 578}
	fullRetrain := Workload{Name: "training", Params: 7_230_000, Tokens: 3 * 2500 * 512}
	xlTrace := Workload{Name: "causal trace", Params: 1_560_000_000, Tokens: 10 * 1442}
	atThreshold := Workload{Params: 100_000_000, Tokens: 1000} // exactly 1e11
	justBelow := Workload{Params: 99_999_999, Tokens: 1000}
	tests := []struct {
		name        string
		w           Workload
		env, plugin string
		config, why string
	}{
		{"unknown workload, no plugin", Workload{}, "", "", GoConfig, "no XLA plugin installed"},
		{"unknown workload, plugin", Workload{}, "", plugin, GoConfig, "workload unknown"},
		{"shipped model demo, plugin", shippedDemo, "", plugin, GoConfig, "causal trace: 7.23M parameters x 602 tokens = 4.4e+09 < 1e+11, too small"},
		{"one GPT-2 small forward, plugin", oneForward, "", plugin, GoConfig, "too small for XLA's compile to pay off"},
		{"retrain -bench 21, plugin", retrainBench, "", plugin, "xla:" + plugin, "training: 7.23M parameters x 32.3k tokens = 2.3e+11 >= 1e+11, large enough"},
		{"GPT-2 small trace, plugin", gpt2Trace, "", plugin, "xla:" + plugin, "124M parameters x 9.25k tokens = 1.1e+12 >= 1e+11"},
		{"full retrain, plugin", fullRetrain, "", plugin, "xla:" + plugin, "3.84M tokens"},
		{"GPT-2 XL trace, plugin", xlTrace, "", plugin, "xla:" + plugin, "1.56B parameters"},
		{"GPT-2 XL trace, no plugin", xlTrace, "", "", GoConfig, "no XLA plugin installed"},
		{"at the threshold", atThreshold, "", plugin, "xla:" + plugin, ">= 1e+11"},
		{"just below the threshold", justBelow, "", plugin, GoConfig, "< 1e+11"},
		{"GOMLX_BACKEND=go beats a large workload", xlTrace, "go", plugin, GoConfig, "GOMLX_BACKEND=go"},
		{"GOMLX_BACKEND=xla:cuda", shippedDemo, "xla:cuda", plugin, "xla:cuda", "GOMLX_BACKEND=xla:cuda"},
		{"GOMLX_BACKEND=xla means the plugin", shippedDemo, "xla", plugin, "xla:" + plugin, "GOMLX_BACKEND=xla"},
		{"GOMLX_BACKEND=xla:cpu without a plugin", shippedDemo, "xla:cpu", "", "xla:cpu", "GOMLX_BACKEND=xla:cpu"},
		{"GOMLX_BACKEND=auto is the automatic choice", xlTrace, "auto", plugin, "xla:" + plugin, ">= 1e+11"},
		{"-backend go beats GOMLX_BACKEND", Workload{Backend: "go"}, "xla:cuda", plugin, GoConfig, "-backend go"},
		{"-backend xla", Workload{Backend: "xla"}, "go", plugin, "xla:" + plugin, "-backend xla"},
		{"-backend auto defers to GOMLX_BACKEND", Workload{Backend: "auto"}, "xla:cuda", plugin, "xla:cuda", "GOMLX_BACKEND=xla:cuda"},
		{"-backend with options", Workload{Backend: "go:parallelism=2"}, "", "", "go:parallelism=2", "-backend go:parallelism=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config, why := Choose(tt.w, tt.env, tt.plugin)
			if config != tt.config || !strings.Contains(why, tt.why) {
				t.Errorf("Choose(%+v, %q, %q) = %q, %q; want %q and a reason containing %q", tt.w, tt.env, tt.plugin, config, why, tt.config, tt.why)
			}
		})
	}
}

func TestForReportsOnce(t *testing.T) {
	t.Setenv(EnvVar, "")
	t.Setenv(PluginEnvVar, "")
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	var buf strings.Builder
	SetReport(&buf)
	defer SetReport(os.Stderr)
	mu.Lock()
	delete(created, GoConfig) // a fresh choice, as in a new process
	warnedSIMD = false
	mu.Unlock()
	for range 3 {
		b, err := For(Workload{Name: "test", Params: 10, Tokens: 10})
		if err != nil {
			t.Fatal(err)
		}
		if b.Name() != "Go Backend" {
			t.Fatalf("backend %q, want the pure-Go backend", b.Name())
		}
	}
	want := "govene: backend go [" + GoConfig + "]: no XLA plugin installed"
	if got := buf.String(); strings.Count(got, "govene: backend") != 1 || !strings.HasPrefix(got, want) {
		t.Errorf("three calls reported %q; want one line starting %q", got, want)
	}
	if Chosen() != GoConfig {
		t.Errorf("Chosen() = %q, want %q", Chosen(), GoConfig)
	}
	if strings.Contains(buf.String(), "GOEXPERIMENT=simd") != !simdBuild {
		t.Errorf("report %q: the SIMD warning should appear exactly when built without SIMD (simdBuild=%v)", buf.String(), simdBuild)
	}
}

func TestSIMDWarning(t *testing.T) {
	// The build-tagged constant matches how this test binary was built.
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information in the test binary")
	}
	experiments := ""
	for _, s := range info.Settings {
		if s.Key == "GOEXPERIMENT" {
			experiments = s.Value
		}
	}
	if want := slices.Contains(strings.Split(experiments, ","), "simd"); simdBuild != want {
		t.Errorf("simdBuild = %v, but the binary was built with GOEXPERIMENT=%q", simdBuild, experiments)
	}
	tests := []struct {
		name string
		simd bool
		want string
	}{
		{"go", false, "govene: built without GOEXPERIMENT=simd: the pure-Go backend runs several times slower (3-5x on govene demo); rebuild with GOEXPERIMENT=simd"},
		{"go", true, ""},
		{"xla", false, ""},
		{"xla", true, ""},
	}
	for _, tt := range tests {
		if got := simdWarning(tt.name, tt.simd); !strings.HasPrefix(got, tt.want) || (tt.want == "") != (got == "") {
			t.Errorf("simdWarning(%q, %v) = %q, want %q", tt.name, tt.simd, got, tt.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct{ config, want string }{
		{"tpu9", "unknown backend \"tpu9\""},
		{"go:no_such_option", "no_such_option"},
		{"xla:/nonexistent/pjrt_plugin.so", "xla:/nonexistent/pjrt_plugin.so"},
	}
	for _, tt := range tests {
		b, err := New(tt.config)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%q) = %v, %v; want an error containing %q", tt.config, b, err, tt.want)
		}
	}
}

// TestWideGraphDoesNotHang runs a graph with many independent large matmuls,
// the shape that deadlocks GoMLX v0.28.2's pure-Go backend in its default
// parallel mode, on the configuration govene uses.
func TestWideGraphDoesNotHang(t *testing.T) {
	b, err := New(GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	done := make(chan error, 1)
	go func() {
		_, err := ExecOnce(b, func(g *Graph) *Node {
			var outs []*Node
			for i := range n {
				x := AddScalar(IotaFull(g, shapes.Make(dtypes.Float32, 256, 768)), float64(i))
				w := IotaFull(g, shapes.Make(dtypes.Float32, 768, 3072))
				outs = append(outs, ReduceAllSum(MatMul(MulScalar(x, 1e-6), MulScalar(w, 1e-6))))
			}
			return ReduceAllSum(Stack(outs, 0))
		})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("a wide graph hung on the pure-Go backend")
	}
}
