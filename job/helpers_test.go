package job

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/models"
	"github.com/govene/govene/safetensors"
)

// testSpec returns a spec of kind over testdata/<kind>.jsonl on the
// pure-Go backend, writing to a fresh folder.
func testSpec(t *testing.T, kind string, sites ...string) Spec {
	t.Helper()
	return Spec{Kind: kind, Backend: "go", Dataset: filepath.Join("testdata", kind+".jsonl"), Out: t.TempDir(),
		Sites: sites, ShardSize: 16, BatchSize: 8}
}

// runJob runs spec and fails the test on error.
func runJob(t *testing.T, spec Spec) *Manifest {
	t.Helper()
	m, err := Run(context.Background(), spec, nil)
	if err != nil {
		t.Fatalf("Run %s: %v", spec.Kind, err)
	}
	return m
}

var (
	modelOnce sync.Once
	model     models.Model
	modelErr  error
)

// shippedModel loads the shipped model on the pure-Go backend once.
func shippedModel(t *testing.T) models.Model {
	t.Helper()
	modelOnce.Do(func() {
		model, modelErr = models.Load("", models.Options{Workload: backend.Workload{Backend: "go"}})
	})
	if modelErr != nil {
		t.Fatal(modelErr)
	}
	return model
}

// shard holds one shard file's tensors.
type shard struct {
	f32   map[string][]float32
	i64   map[string][]int64
	shape map[string][]int
	meta  map[string]string
}

// readShard reads every tensor of a shard file.
func readShard(t *testing.T, path string) shard {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := shard{f32: map[string][]float32{}, i64: map[string][]int64{}, shape: map[string][]int{}, meta: f.Metadata()}
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		if info.DType == safetensors.I64 {
			s.i64[n], s.shape[n], err = f.Int64(n)
		} else {
			s.f32[n], s.shape[n], err = f.Float32(n)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// outFiles returns the contents of every file in dir by name.
func outFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = data
	}
	return files
}

// planErr plans a job of kind over dataset into out and returns NewPlan's
// error, failing the test when NewPlan takes over 10 seconds (a hang).
func planErr(t *testing.T, kind, dataset, out string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := NewPlan(Spec{Kind: kind, Dataset: dataset, Out: out, Sites: []string{"blocks.1.block_output"}})
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("NewPlan %s hangs", dataset)
		return nil
	}
}

// wantErr fails the test unless err is an error holding every string of
// want.
func wantErr(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("NewPlan: nil error, want %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("NewPlan: %v\nlacks %q", err, w)
		}
	}
}
