package beamjob

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govene/govene/job"
)

// TestPlannedLoad checks that a worker refuses a job whose dataset or spec
// differs from what the launcher planned, and shares one entry per job.
func TestPlannedLoad(t *testing.T) {
	plan, err := job.NewPlan(job.Spec{Kind: "collect", Dataset: "testdata/collect.jsonl",
		Out: t.TempDir(), ShardSize: 5, Sites: []string{"blocks.0.block_output"}})
	if err != nil {
		t.Fatal(err)
	}
	good, err := newPlanned(plan)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(p *planned)
		wantErr string
	}{
		{name: "same plan", edit: func(*planned) {}},
		{name: "dataset changed", edit: func(p *planned) { p.DatasetSHA256 = "00" },
			wantErr: "the job was planned with sha256 00 and 12 rows"},
		{name: "rows changed", edit: func(p *planned) { p.Rows = 13 }, wantErr: "and 13 rows"},
		{name: "shards changed", edit: func(p *planned) { p.Shards = 2 }, wantErr: "the job was planned with"},
		{name: "bad spec", edit: func(p *planned) { p.Spec = "{" }, wantErr: "decoding the spec {"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.edit(&p)
			l, err := p.load()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("load() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := p.load(); again != l || l.plan.Rows != 12 || len(l.plan.Shards) != 3 {
				t.Errorf("load() twice: %p then %p, plan of %d rows in %d shards; want one entry, 12 rows, 3 shards",
					l, again, l.plan.Rows, len(l.plan.Shards))
			}
		})
	}
}

// TestCountFiles checks the counts taken from the shard files when a
// runner's counters do not add up: a file older than the run was kept,
// a newer or missing one computed.
func TestCountFiles(t *testing.T) {
	plan, err := job.NewPlan(job.Spec{Kind: "collect", Dataset: "testdata/collect.jsonl",
		Out: t.TempDir(), ShardSize: 5, Sites: []string{"blocks.0.block_output"}})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, sh := range plan.Shards[:2] {
		path := filepath.Join(plan.Spec.Out, sh.File)
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(plan.Spec.Out, plan.Shards[1].File), time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	// Shard 0 predates the run, shard 1 was rewritten during it, shard 2 is missing.
	if got, want := countFiles(plan, old.Add(time.Minute)), (Counts{Kept: 1, Computed: 2}); got != want || len(plan.Shards) != 3 {
		t.Errorf("countFiles = %+v over %d shards, want %+v over 3", got, len(plan.Shards), want)
	}
}
