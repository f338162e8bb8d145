package main

import (
	"flag"
	"reflect"
	"strings"
	"testing"

	"github.com/govene/govene/job"
)

// TestSpecFlags parses job flags as govene-beam's command line gives them
// and checks the spec, or the error for a bad kind or -devices.
func TestSpecFlags(t *testing.T) {
	tests := []struct {
		name    string
		kind    string
		args    []string
		want    job.Spec
		wantErr string
	}{
		{name: "collect", kind: "collect",
			args: []string{"-data", "d.jsonl", "-out", "o", "-sites", "blocks.1.block_output, blocks.2.block_output", "-positions", "all", "-shard-size", "8", "-batch", "2"},
			want: job.Spec{Kind: "collect", Dataset: "d.jsonl", Out: "o", Sites: []string{"blocks.1.block_output", "blocks.2.block_output"}, Positions: "all", ShardSize: 8, BatchSize: 2}},
		{name: "iia with devices and backend", kind: "iia",
			args: []string{"-model", "gpt2", "-data", "d", "-out", "o", "-intervenable", "iv", "-devices", "0, 2", "-backend", "xla"},
			want: job.Spec{Kind: "iia", Model: "gpt2", Dataset: "d", Out: "o", Intervenable: "iv", Devices: []int{0, 2}, Backend: "xla"}},
		{name: "devices all", kind: "patch", args: []string{"-devices", "all"}, want: job.Spec{Kind: "patch"}},
		{name: "bad kind", kind: "train", wantErr: `job kind "train": valid kinds are collect, patch, iia`},
		{name: "bad devices", kind: "collect", args: []string{"-devices", "0,x"}, wantErr: `-devices "0,x"`},
		{name: "negative device", kind: "collect", args: []string{"-devices", "-1"}, wantErr: `-devices "-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("govene-beam", flag.ContinueOnError)
			var sf specFlags
			sf.bind(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got, err := sf.spec(tt.kind)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("spec() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("spec() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
