package tut

import (
	"strings"
	"sync"
	"testing"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/internal/testx"
	"github.com/govene/govene/models"
	"github.com/govene/govene/shipped"
	"github.com/govene/govene/shipped/facts"
)

// shippedModelOnce loads the shipped model once.
var shippedModelOnce = sync.OnceValues(func() (models.Model, error) {
	return Model("")
})

// shippedModel returns the shipped model, or fails t.
var shippedModel = testx.Must(shippedModelOnce)

func TestModel(t *testing.T) {
	t.Setenv(ModelEnv, "")
	m := shippedModel(t)
	if got, want := m.Dims().Layers, shipped.DefaultModel().NLayer; got != want {
		t.Errorf("Model: %d layers, want the shipped model's %d", got, want)
	}
	gob, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Backend().Name(), gob.Name(); got != want {
		t.Errorf("Model put the shipped model on %q, want the pure-Go backend %q", got, want)
	}
	// Folders without a checkpoint: the error names them (and nothing is
	// looked up on the Hub).
	empty := t.TempDir()
	for _, tc := range []struct {
		name, env, want string
	}{
		{"named folder without a checkpoint", "", empty},
		{"$GOVENE_MODEL names a folder without a checkpoint", empty, empty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(ModelEnv, tc.env)
			name := ""
			if tc.env == "" {
				name = tc.want
			}
			_, err := ModelFor(name, backend.Workload{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ModelFor(%q) with $%s=%q: error %v; want one naming %s", name, ModelEnv, tc.env, err, tc.want)
			}
			if tc.env != "" {
				if _, err := Model(""); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Model(\"\") with $%s=%q: error %v; want one naming it", ModelEnv, tc.env, err)
				}
			}
		})
	}
}

func TestTokenIDAndLayer(t *testing.T) {
	m := shippedModel(t)
	for _, tc := range []struct {
		token   string
		wantErr string
	}{
		{" Paris", ""},
		{" Eiffel Tower", `" Eiffel Tower" is not one token`},
		{"", `"" is not one token`},
	} {
		id, err := TokenID(m, tc.token)
		switch {
		case tc.wantErr == "" && (err != nil || m.Tokenizer().Token(id) != tc.token):
			t.Errorf("TokenID(%q) = %d (%q), %v; want its id", tc.token, id, m.Tokenizer().Token(id), err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("TokenID(%q) error %v; want %q", tc.token, err, tc.wantErr)
		}
	}
	for _, g := range []int{-1, 0, 6, 8, 11, 40} {
		if got, want := Layer(m, g), facts.Layer(g); got != want {
			t.Errorf("Layer(shipped model, %d) = %d, want facts.Layer's %d", g, got, want)
		}
	}
}
