package backend

import (
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
	if c, why := Config(); c != GoConfig || !strings.Contains(why, "pure-Go") {
		t.Errorf("Config() = %q, %q; want the pure-Go backend", c, why)
	}
	t.Setenv(EnvVar, "go")
	if c, _ := Config(); c != GoConfig {
		t.Errorf("GOMLX_BACKEND=go gives %q, want %q", c, GoConfig)
	}
	t.Setenv(EnvVar, "xla:cuda")
	if c, _ := Config(); c != "xla:cuda" {
		t.Errorf("GOMLX_BACKEND=xla:cuda gives %q", c)
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
