package beamjob

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/govene/govene/job"
)

// TestRunErrors checks that a bad example fails the pipeline with an error
// naming the shard and the dataset line, that a spec and Out of another job
// are refused before the pipeline starts, and that no manifest is written.
func TestRunErrors(t *testing.T) {
	var lines []string
	for i := range 8 {
		if i == 6 {
			lines = append(lines, `{"ids": [1, 99999999]}`)
			continue
		}
		lines = append(lines, fmt.Sprintf(`{"text": "Example number %d is"}`, i))
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other")
	if _, err := job.Run(context.Background(), job.Spec{Kind: "collect", Dataset: "testdata/collect.jsonl",
		Out: other, ShardSize: 6, Sites: []string{"blocks.0.block_output"}}, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec job.Spec
		want []string
	}{
		{name: "token out of range",
			spec: job.Spec{Kind: "collect", Dataset: bad, Out: filepath.Join(dir, "bad"), ShardSize: 4, Sites: []string{"blocks.0.block_output"}},
			want: []string{"shard 1 (shard-00001.safetensors, rows [4, 8))", "bad.jsonl:7", "out of range"}},
		{name: "other job in out",
			spec: job.Spec{Kind: "collect", Dataset: "testdata/collect.jsonl", Out: other, ShardSize: 4, Sites: []string{"blocks.0.block_output"}},
			want: []string{"shard_size"}},
		{name: "invalid spec",
			spec: job.Spec{Kind: "sweep", Dataset: "testdata/collect.jsonl", Out: filepath.Join(dir, "invalid")},
			want: []string{"sweep"}},
	}
	// The failing bundle is logged at error level by Prism and the harness.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.spec, Options{Execute: prism.Execute})
			if err == nil {
				t.Fatal("Run succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run error %q does not contain %q", err, w)
				}
			}
			if tt.spec.Out != other {
				if _, err := os.Stat(filepath.Join(tt.spec.Out, "manifest.json")); err == nil {
					t.Errorf("a failed run wrote %s/manifest.json", tt.spec.Out)
				}
			}
		})
	}
	if _, s := beam.NewPipelineWithRoot(); Build(s, nil) == nil {
		t.Error("Build(nil plan) succeeded")
	}
}
