package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
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
	sf := specFlags{data: "../../beamjob/testdata/collect.jsonl", out: out,
		sites: "blocks.1.block_output", shardSize: 5, batch: 3, devices: "all"}
	for _, want := range []string{
		"collect: 12 rows in 3 shards (3 computed, 0 kept) -> " + out + "\n",
		"collect: 12 rows in 3 shards (0 computed, 3 kept) -> " + out + "\n",
	} {
		var buf bytes.Buffer
		if err := run(context.Background(), "collect", &sf, &buf); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Errorf("run printed %q, want %q", buf.String(), want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Error(err)
	}
	err := run(context.Background(), "", &sf, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "missing the job kind") {
		t.Errorf("run without a kind: error %v, want one saying the kind is missing", err)
	}
}
