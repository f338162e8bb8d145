package models

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/govene/govene/gpt2"
)

func TestResolve(t *testing.T) {
	for _, tt := range []struct{ env, name, want string }{
		{"", "", Shipped},
		{"gpt2", "", "gpt2"},
		{"gpt2", "shipped", "shipped"},
		{"", "/some/dir", "/some/dir"},
	} {
		t.Setenv(Env, tt.env)
		if got := Resolve(tt.name); got != tt.want {
			t.Errorf("Resolve(%q) with $%s=%q = %q, want %q", tt.name, Env, tt.env, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Setenv(Env, "")
	m, err := Load("", gpt2.Options{})
	if err != nil || m.Dims().Layers != 8 {
		t.Fatalf("Load(\"\") = %v, %v; want the shipped 8-layer model", m, err)
	}
	if _, err := TokenID(m, " Paris"); err != nil {
		t.Error(err)
	}
	if _, err := TokenID(m, " Paris France"); err == nil || !strings.Contains(err.Error(), `" Paris France" is not one token`) {
		t.Errorf("multi-token TokenID: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := Load(missing, gpt2.Options{}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(%q): %v; want an error naming it", missing, err)
	}
}
