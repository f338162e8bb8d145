package job

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunShardChecks checks that a worker refuses a shard that is not the
// plan's, a dataset that changed (or another copy that differs) since the
// plan, and a row the model cannot take, naming the line and the field.
func TestRunShardChecks(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.jsonl")
	rows := "{\"text\":\"The Colosseum is in the city of\"}\n{\"text\":\"Big Ben is in the city of\"}\n\n{\"ids\":[464, 50256]}\n{\"ids\":[464, 50257]}\n"
	if err := os.WriteFile(data, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Kind: Collect, Backend: "go", Dataset: data, Out: filepath.Join(dir, "out"), Sites: []string{"embed"}, ShardSize: 2, BatchSize: 2}
	p := mustPlan(t, spec)
	w, err := NewWorker(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	if _, err := w.RunShard(ctx, p.Shards[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunShard(ctx, p.Shards[1]); err == nil || !strings.Contains(err.Error(), `d.jsonl:5: field "ids": token 1: id 50257 out of range [0, 50257)`) {
		t.Errorf("RunShard of a row with an id outside the vocabulary: %v", err)
	}
	bad := p.Shards[0]
	bad.End = 1
	if _, err := w.RunShard(ctx, bad); err == nil || !strings.Contains(err.Error(), "is not a shard of this plan") {
		t.Errorf("RunShard of a shard not in the plan: %v", err)
	}
	// The same number of rows with one changed, then fewer rows.
	if err := os.WriteFile(data, []byte(strings.Replace(rows, "Big Ben", "Big Bem", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunShard(ctx, p.Shards[0]); err == nil || !strings.Contains(err.Error(), "differs from the planned one: shard 0's rows (lines 1 to 2) have sha256") {
		t.Errorf("RunShard after a row changed: %v", err)
	}
	if err := os.WriteFile(data, []byte(rows[:strings.Index(rows, "\n\n")]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunShard(ctx, p.Shards[1]); err == nil || !strings.Contains(err.Error(), "shard 1 wants 2 rows from line 4, the file has 0") {
		t.Errorf("RunShard after rows were removed: %v", err)
	}
}

// TestNewWorkerErrors checks the errors of a site the model lacks and a
// missing intervenable (refused by NewPlan already, which hashes its files).
func TestNewWorkerErrors(t *testing.T) {
	for _, tt := range []struct {
		spec Spec
		want string
	}{
		{Spec{Kind: Collect, Sites: []string{"blocks.8.mlp_output"}}, "layer 8 out of range [0, 8)"},
		{Spec{Kind: IIA, Intervenable: filepath.Join(t.TempDir(), "none")}, `spec intervenable "`},
	} {
		s := tt.spec
		s.Backend, s.Dataset, s.Out = "go", filepath.Join("testdata", s.Kind+".jsonl"), t.TempDir()
		p, err := NewPlan(s)
		if err == nil {
			_, err = NewWorker(p, nil)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewWorker(%s %v %q): %v, want an error with %q", s.Kind, s.Sites, s.Intervenable, err, tt.want)
		}
	}
}

// TestBadTokens checks that a target or label of several tokens, and an
// iia row with more sources than the intervenable has groups, are errors
// naming the line, the field and the text.
func TestBadTokens(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		kind, rows, want string
	}{
		{Patch, "{\"base\":\"Big Ben is in the city of\",\"source\":\"The Louvre is in the city of\",\"targets\":[\" London\"]}\n" +
			"{\"base\":\"Big Ben is in the city of\",\"source\":\"The Louvre is in the city of\",\"targets\":[\" Seattle Washington\"]}\n",
			`:2: field "targets[0]": " Seattle Washington" is not one token`},
		{IIA, "{\"base\":\"Big Ben is in the city of\",\"sources\":[\"The Louvre is in the city of\"],\"label\":\"Paris France\"}\n",
			`:1: field "label": "Paris France" is not one token`},
		{IIA, "{\"base\":\"Big Ben is in the city of\",\"sources\":[\"a\", \"b\"],\"label\":\" Paris\"}\n",
			`:1: field "sources": 2 given, the intervenable has 1 source groups`},
	} {
		data := filepath.Join(dir, tt.kind+".jsonl")
		if err := os.WriteFile(data, []byte(tt.rows), 0o644); err != nil {
			t.Fatal(err)
		}
		spec := Spec{Kind: tt.kind, Backend: "go", Dataset: data, Out: t.TempDir(), Sites: []string{"blocks.6.block_output"}}
		_, err := Run(context.Background(), spec, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run %s: %v, want an error with %q", tt.kind, err, tt.want)
		}
	}
}

// TestRunShardConcurrent runs every shard of a patch and a collect job at
// once on one Worker (as a Beam worker's bundles may) and checks the files
// equal a serial Run's byte for byte.
func TestRunShardConcurrent(t *testing.T) {
	for _, spec := range []Spec{testSpec(t, Patch, "blocks.6.block_output"), testSpec(t, Collect, "blocks.4.attention_output")} {
		spec.ShardSize = 6
		runJob(t, spec)
		want := shardFiles(t, spec.Out)
		spec.Out = t.TempDir()
		p := mustPlan(t, spec)
		if err := p.Prepare(); err != nil {
			t.Fatal(err)
		}
		w, err := NewWorker(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, len(p.Shards))
		infos := make([]ShardInfo, len(p.Shards))
		for i, sh := range p.Shards {
			go func() {
				var err error
				infos[i], err = w.RunShard(context.Background(), sh)
				errs <- err
			}()
		}
		for range p.Shards {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
		if err := p.WriteManifest(infos); err != nil {
			t.Fatal(err)
		}
		equalFiles(t, shardFiles(t, spec.Out), want)
	}
}
