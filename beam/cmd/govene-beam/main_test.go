package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/govene/govene/job"
)

func TestMain(m *testing.M) {
	beamlog.LogLevel = "warn"
	beam.Init()
	os.Exit(m.Run())
}

// TestRun runs govene-beam's job on the default runner (Prism, through
// beamx), then again on the same folder, where every shard is kept, and
// checks the summaries; and that a missing job kind is an error.
func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "acts")
	spec := job.Spec{Kind: job.Collect, Dataset: "../../beamjob/testdata/collect.jsonl", Out: out,
		Sites: []string{"blocks.1.block_output"}, ShardSize: 5, BatchSize: 3}
	for _, want := range []string{
		"collect: 12 rows in 3 shards (3 computed, 0 kept) -> " + out + "\n",
		"collect: 12 rows in 3 shards (0 computed, 3 kept) -> " + out + "\n",
	} {
		var buf bytes.Buffer
		if err := run(context.Background(), spec, &buf); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Errorf("run printed %q, want %q", buf.String(), want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Error(err)
	}
	for _, c := range []struct{ kind, want string }{
		{"", "missing the job kind"},
		{"train", `job kind "train": valid kinds are collect, patch, iia`},
	} {
		bad := spec
		bad.Kind = c.kind
		if err := run(context.Background(), bad, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run with kind %q: error %v, want one containing %q", c.kind, err, c.want)
		}
	}
}

// TestUsage checks -h lists the job's flags, then Beam's, each once.
func TestUsage(t *testing.T) {
	fs := flag.NewFlagSet("govene-beam", flag.ContinueOnError)
	job.BindFlags(fs, new(job.Spec))
	fs.String("runner", "", "Pipeline runner.")
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	printUsage(fs)
	out := buf.String()
	jobAt, beamAt := strings.Index(out, "Job flags"), strings.Index(out, "Beam flags")
	if jobAt < 0 || beamAt < jobAt {
		t.Fatalf("usage lacks the job section before the Beam section:\n%s", out)
	}
	for _, name := range []string{"-data", "-devices", "-sites"} {
		if i := strings.Index(out, "  "+name+" "); i < jobAt || i > beamAt || strings.Count(out, "  "+name+" ") != 1 {
			t.Errorf("%s is not listed once among the job flags:\n%s", name, out)
		}
	}
	if i := strings.Index(out, "  -runner "); i < beamAt {
		t.Errorf("-runner is not listed among the Beam flags:\n%s", out)
	}
}
