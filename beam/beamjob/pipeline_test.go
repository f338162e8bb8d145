package beamjob

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/govene/govene/job"
)

func TestMain(m *testing.M) {
	// Prism and the harness log every stage at info.
	beamlog.LogLevel = "warn"
	beam.Init()
	os.Exit(m.Run())
}

// testdata holds one small dataset per job kind.
const testdata = "testdata"

// TestPrismMatchesSingleProcess runs each job kind with job.Run and as a
// Beam pipeline on Prism, fresh and with one shard already finished, and
// checks that the manifests agree and the shard files are byte-identical,
// and that the finished shard is kept (same file, counted as kept).
func TestPrismMatchesSingleProcess(t *testing.T) {
	tests := []struct {
		kind, dataset string
		sites         []string
		positions     string
	}{
		{kind: "collect", dataset: "collect.jsonl", sites: []string{"blocks.1.block_output", "blocks.0.attention_output"}, positions: "last"},
		{kind: "patch", dataset: "patch.jsonl", sites: []string{"blocks.1.block_output"}},
		{kind: "iia", dataset: "iia.jsonl", sites: []string{"blocks.1.block_output"}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			dir := t.TempDir()
			spec := job.Spec{Kind: tt.kind, Dataset: filepath.Join(testdata, tt.dataset),
				ShardSize: 5, BatchSize: 2, Sites: tt.sites, Positions: tt.positions}
			single := spec
			single.Out = filepath.Join(dir, "single")
			want, err := job.Run(ctx, single, nil)
			if err != nil {
				t.Fatalf("job.Run: %v", err)
			}
			n := int64(len(want.Shards))
			if n < 2 {
				t.Fatalf("job.Run wrote %d shards; the test needs at least 2", n)
			}

			fresh := spec
			fresh.Out = filepath.Join(dir, "beam")
			var counts Counts
			got, err := Run(ctx, fresh, Options{Execute: prism.Execute, Counts: &counts})
			if err != nil {
				t.Fatalf("beamjob.Run: %v", err)
			}
			if want := (Counts{Computed: n}); counts != want {
				t.Errorf("fresh run counts = %+v, want %+v", counts, want)
			}
			sameOutput(t, want, single.Out, got, fresh.Out)

			resumed := spec
			resumed.Out = filepath.Join(dir, "resumed")
			before := finishShard(t, resumed, 1)
			got, err = Run(ctx, resumed, Options{Execute: prism.Execute, Counts: &counts})
			if err != nil {
				t.Fatalf("beamjob.Run (resumed): %v", err)
			}
			if want := (Counts{Kept: 1, Computed: n - 1}); counts != want {
				t.Errorf("resumed run counts = %+v, want %+v", counts, want)
			}
			if after := statFile(t, filepath.Join(resumed.Out, want.Shards[1].File)); after != before {
				t.Errorf("finished shard 1 was rewritten: %+v, then %+v", before, after)
			}
			sameOutput(t, want, single.Out, got, resumed.Out)
		})
	}
}

// fileID identifies one version of a file.
type fileID struct {
	inode uint64
	mtime time.Time
}

// statFile returns path's inode and modification time.
func statFile(t *testing.T, path string) fileID {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileID{inode: st.Sys().(*syscall.Stat_t).Ino, mtime: st.ModTime()}
}

// finishShard computes shard index of spec into spec.Out as a
// single-process worker would before a crash, and returns its file's id.
func finishShard(t *testing.T, spec job.Spec, index int) fileID {
	t.Helper()
	plan, err := job.NewPlan(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Prepare(); err != nil {
		t.Fatal(err)
	}
	w, err := job.NewWorker(plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	info, err := w.RunShard(context.Background(), plan.Shards[index])
	if err != nil {
		t.Fatal(err)
	}
	return statFile(t, filepath.Join(spec.Out, info.File))
}

// sameOutput checks that manifest got (of folder gotDir) equals want (of
// wantDir) but for the output folder, and that every shard file and
// sidecar is byte-identical.
func sameOutput(t *testing.T, want *job.Manifest, wantDir string, got *job.Manifest, gotDir string) {
	t.Helper()
	w, g := *want, *got
	w.Spec.Out, g.Spec.Out = "", ""
	if !reflect.DeepEqual(w, g) {
		t.Errorf("manifests differ:\n single: %+v\n beam:   %+v", w, g)
	}
	onDisk, err := job.ReadManifest(gotDir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(onDisk, got) {
		t.Errorf("Run returned %+v, manifest.json holds %+v", got, onDisk)
	}
	for _, sh := range want.Shards {
		sidecar := sh.File[:len(sh.File)-len(filepath.Ext(sh.File))] + ".json"
		for _, name := range []string{sh.File, sidecar} {
			a, errA := os.ReadFile(filepath.Join(wantDir, name))
			b, errB := os.ReadFile(filepath.Join(gotDir, name))
			if errA != nil || errB != nil {
				t.Fatalf("reading %s: %v, %v", name, errA, errB)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs: %d bytes single-process, %d bytes beam", name, len(a), len(b))
			}
		}
	}
}
