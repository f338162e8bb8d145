package job

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/govene/govene/internal/atomicfs"
)

// recordShards sets shardHook to record the shards Run computes, until the
// test ends.
func recordShards(t *testing.T) *[]int {
	var done []int
	shardHook = func(sh Shard) { done = append(done, sh.Index) }
	t.Cleanup(func() { shardHook = nil })
	return &done
}

// shardFiles returns the shard files and sidecars of out (not job.json and
// manifest.json, which name the folder).
func shardFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := outFiles(t, dir)
	delete(files, JobFile)
	delete(files, ManifestFile)
	return files
}

// equalFiles fails the test unless got and want hold the same files with
// the same bytes.
func equalFiles(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s is missing", name)
		} else if !bytes.Equal(g, w) {
			t.Errorf("%s differs from the uninterrupted run's (%d vs %d bytes)", name, len(g), len(w))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected file %s", name)
		}
	}
}

// TestResume damages a finished job's output in the ways a crash or a
// disk can, reruns it, and checks that exactly the damaged shards are
// recomputed, the others kept, and the output is byte-identical to the
// first run's.
func TestResume(t *testing.T) {
	spec := testSpec(t, Collect, "blocks.2.mlp_output")
	spec.ShardSize = 8 // 5 shards
	first := runJob(t, spec)
	want := shardFiles(t, spec.Out)
	path := func(name string) string { return filepath.Join(spec.Out, name) }
	tests := []struct {
		name   string
		damage func() error
		redo   []int
	}{
		{"nothing", func() error { return nil }, nil},
		{"shard file removed", func() error { return os.Remove(path(ShardFile(1))) }, []int{1}},
		{"shard truncated", func() error { return os.Truncate(path(ShardFile(2)), 100) }, []int{2}},
		{"sidecar removed", func() error { return os.Remove(path("shard-00003.json")) }, []int{3}},
		{"a byte flipped", func() error {
			data, err := os.ReadFile(path(ShardFile(4)))
			if err != nil {
				return err
			}
			data[len(data)-1] ^= 1
			return os.WriteFile(path(ShardFile(4)), data, 0o644)
		}, []int{4}},
		{"sidecar of another range", func() error {
			data, err := os.ReadFile(path("shard-00000.json"))
			if err != nil {
				return err
			}
			return os.WriteFile(path("shard-00000.json"), bytes.Replace(data, []byte(`"end": 8`), []byte(`"end": 7`), 1), 0o644)
		}, []int{0}},
		{"sidecar not JSON", func() error { return os.WriteFile(path("shard-00001.json"), []byte("{"), 0o644) }, []int{1}},
		{"a writer's temporary beside a removed shard", func() error {
			if err := os.Remove(path(ShardFile(2))); err != nil {
				return err
			}
			// What a killed writer leaves: the whole file under its temporary name.
			return os.WriteFile(path(".shard-00002.safetensors.govene-tmp-00000000-1-00000000"), want[ShardFile(2)], 0o644)
		}, []int{2}},
		{"manifest removed", func() error { return os.Remove(path(ManifestFile)) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.damage(); err != nil {
				t.Fatal(err)
			}
			done := recordShards(t)
			var log bytes.Buffer
			m, err := Run(context.Background(), spec, &log)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(*done, tt.redo) {
				t.Errorf("recomputed shards %v, want %v", *done, tt.redo)
			}
			if kept := 5 - len(tt.redo); !strings.Contains(log.String(), "job: kept "+string(rune('0'+kept))+" finished shards of 5") {
				t.Errorf("log lacks kept %d:\n%s", kept, log.String())
			}
			got := shardFiles(t, spec.Out)
			for name := range got {
				if strings.HasPrefix(name, ".") {
					delete(got, name) // a temporary of a live (this) process's pid stays; Verify ignores it
				}
			}
			equalFiles(t, got, want)
			if m.SpecHash != first.SpecHash || !slices.EqualFunc(m.Shards, first.Shards, func(a, b ShardInfo) bool { return a.SHA256 == b.SHA256 }) {
				t.Errorf("manifest differs from the first run's")
			}
		})
	}
}

// TestOutOfAnotherJob checks that an Out holding another job is refused,
// naming the differing field and both values, and nothing is written.
func TestOutOfAnotherJob(t *testing.T) {
	spec := testSpec(t, Collect, "embed")
	runJob(t, spec)
	before := outFiles(t, spec.Out)
	changed := filepath.Join(t.TempDir(), "changed.jsonl")
	data, err := os.ReadFile(spec.Dataset)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(changed, append(data, []byte("{\"text\":\"one more\"}\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*Spec)
		want   []string
	}{
		{"batch size", func(s *Spec) { s.BatchSize = 4 }, []string{"its batch_size is 8", "this job's is 4"}},
		{"sites", func(s *Spec) { s.Sites = []string{"pos_embed"} }, []string{`its sites is ["embed"]`, `this job's is ["pos_embed"]`}},
		{"positions", func(s *Spec) { s.Positions = All }, []string{`its positions is "last"`, `this job's is "all"`}},
		{"backend", func(s *Spec) { s.Backend = "xla" }, []string{`its backend is "go"`, `this job's is "xla"`}},
		{"dataset", func(s *Spec) { s.Dataset = changed }, []string{"its dataset (sha256) is", "this job's is"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec
			tt.change(&s)
			_, err := Run(context.Background(), s, nil)
			if err == nil {
				t.Fatal("Run: nil error in an Out of another job")
			}
			for _, w := range append(tt.want, "holds another job", JobFile) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run: %v\nlacks %q", err, w)
				}
			}
			equalFiles(t, outFiles(t, spec.Out), before)
		})
	}
	// Without job.json, the manifest or the sidecars still tell.
	if err := os.Remove(filepath.Join(spec.Out, JobFile)); err != nil {
		t.Fatal(err)
	}
	other := spec
	other.BatchSize = 4
	if _, err := Run(context.Background(), other, nil); err == nil || !strings.Contains(err.Error(), "its batch_size is 8") || !strings.Contains(err.Error(), ManifestFile) {
		t.Errorf("Run of another job in an Out with a manifest and no job.json: %v", err)
	}
	if err := os.Remove(filepath.Join(spec.Out, ManifestFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), other, nil); err == nil || !strings.Contains(err.Error(), "its spec hash is") || !strings.Contains(err.Error(), "shard-0000") {
		t.Errorf("Run of another job in an Out with sidecars only: %v", err)
	}
	// Other devices and another copy of the dataset are the same job.
	s := spec
	s.Devices = []int{0}
	copyPath := filepath.Join(t.TempDir(), "copy.jsonl")
	if err := os.WriteFile(copyPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s.Dataset = copyPath
	done := recordShards(t)
	if _, err := Run(context.Background(), s, nil); err != nil || len(*done) != 0 {
		t.Errorf("Run with other devices and a copy of the dataset: %v, recomputed %v; want all kept", err, *done)
	}
}

// TestCancel checks that a cancelled context stops Run with ctx's error
// and leaves no manifest.
func TestCancel(t *testing.T) {
	spec := testSpec(t, Collect, "embed")
	ctx, cancel := context.WithCancel(context.Background())
	shardHook = func(sh Shard) {
		if sh.Index == 1 {
			cancel()
		}
	}
	defer func() { shardHook = nil }()
	_, err := Run(ctx, spec, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(spec.Out, ManifestFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("manifest after a cancelled job: %v", err)
	}
	if _, ok := mustPlan(t, spec).Verify(mustPlan(t, spec).Shards[0]); !ok {
		t.Error("shard 0, finished before the cancel, does not verify")
	}
}

// mustPlan plans spec.
func mustPlan(t *testing.T, spec Spec) *Plan {
	t.Helper()
	p, err := NewPlan(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// killEnv makes the test binary a job process for TestKill, stopped inside
// shard 2's write.
const killEnv = "GOVENE_JOB_KILL_OUT"

// TestKill runs a job in a child process, kills it with SIGKILL in the
// middle of writing shard 2 (shards 0 and 1 are finished, a partial
// temporary of shard 2 is on disk), resumes it with Run, and checks that
// shards 0 and 1 are kept, 2-4 computed, no temporary remains, and the
// output is byte-identical to an uninterrupted run's.
func TestKill(t *testing.T) {
	if out := os.Getenv(killEnv); out != "" {
		killChild(out)
		return
	}
	ref := testSpec(t, Collect, "blocks.2.mlp_output")
	ref.ShardSize = 8
	runJob(t, ref)
	want := shardFiles(t, ref.Out)

	spec := ref
	spec.Out = t.TempDir()
	marker := filepath.Join(t.TempDir(), "writing")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill$")
	cmd.Env = append(os.Environ(), killEnv+"="+spec.Out, "GOVENE_JOB_KILL_MARKER="+marker, "GOMLX_BACKEND=go")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("the child never reached shard 2's write:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	var temps []string
	for name := range outFiles(t, spec.Out) {
		if strings.HasPrefix(name, "."+ShardFile(2)) {
			temps = append(temps, name)
		}
	}
	if len(temps) != 1 {
		t.Fatalf("after the kill: temporaries %v, want shard 2's", temps)
	}
	if _, err := os.Stat(filepath.Join(spec.Out, ShardFile(2))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("shard 2 exists after a kill inside its write: %v", err)
	}

	done := recordShards(t)
	var log bytes.Buffer
	if _, err := Run(context.Background(), spec, &log); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(*done, []int{2, 3, 4}) {
		t.Errorf("the resumed job computed shards %v, want [2 3 4]", *done)
	}
	if !strings.Contains(log.String(), "job: kept 2 finished shards of 5") {
		t.Errorf("log lacks the kept shards:\n%s", log.String())
	}
	equalFiles(t, shardFiles(t, spec.Out), want)
}

// killChild is TestKill's child: it runs the job with a write hook that,
// inside shard 2's write, creates the marker and waits to be killed.
func killChild(out string) {
	marker := os.Getenv("GOVENE_JOB_KILL_MARKER")
	atomicfs.SetTestHook(func(step atomicfs.Step, path string) error {
		if step == atomicfs.StepWrite && strings.Contains(filepath.Base(path), ShardFile(2)) {
			_ = os.WriteFile(marker, nil, 0o644)
			time.Sleep(time.Minute)
		}
		return nil
	})
	spec := Spec{Kind: Collect, Backend: "go", Dataset: filepath.Join("testdata", "collect.jsonl"), Out: out,
		Sites: []string{"blocks.2.mlp_output"}, ShardSize: 8, BatchSize: 8}
	_, err := Run(context.Background(), spec, os.Stderr)
	os.Stderr.WriteString("child: Run returned (not killed): " + errString(err) + "\n")
	os.Exit(3)
}

// errString returns err's text or "nil".
func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
