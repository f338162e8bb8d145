package main

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/govene/govene/job"
)

// specFlags are the flags of `govene job`, bound on a flag set.
type specFlags struct {
	model, data, out, sites, positions, backend, devices, intervenable string
	shardSize, batch                                                   int
}

// bind defines the job flags on fs.
func (f *specFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", `model: a folder, an HF cache or Hub name; "" is the shipped model`)
	fs.StringVar(&f.data, "data", "", "dataset: a JSONL file, one example per line (required; workers read it at the same path)")
	fs.StringVar(&f.out, "out", "", "output folder for shards and manifest.json (required; on storage the workers share)")
	fs.StringVar(&f.sites, "sites", "", "comma-separated sites, e.g. blocks.3.block_output (collect: any number; patch and vanilla iia: one)")
	fs.StringVar(&f.positions, "positions", "", "collect: last | all (default last)")
	fs.IntVar(&f.shardSize, "shard-size", 0, "examples per shard (0: 1024)")
	fs.IntVar(&f.batch, "batch", 0, "examples per forward pass (0: 32)")
	fs.StringVar(&f.backend, "backend", "", "backend: go | xla | ... (\"\": the default)")
	fs.StringVar(&f.devices, "devices", "all", "devices of the backend: all, or a comma-separated list such as 0,1")
	fs.StringVar(&f.intervenable, "intervenable", "", "iia (and patch): a pv.Save folder")
}

// spec returns the job spec for kind, or an error naming a bad kind or
// -devices value. The spec's own fields are checked by job.Spec.Validate.
func (f *specFlags) spec(kind string) (job.Spec, error) {
	if !slices.Contains(job.Kinds, kind) {
		return job.Spec{}, fmt.Errorf("job kind %q: valid kinds are %s", kind, strings.Join(job.Kinds, ", "))
	}
	devices, err := parseDevices(f.devices)
	if err != nil {
		return job.Spec{}, err
	}
	var sites []string
	for _, s := range strings.Split(f.sites, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sites = append(sites, s)
		}
	}
	return job.Spec{Kind: kind, Model: f.model, Backend: f.backend, Devices: devices,
		Dataset: f.data, Out: f.out, ShardSize: f.shardSize, BatchSize: f.batch,
		Sites: sites, Positions: f.positions, Intervenable: f.intervenable}, nil
}

// parseDevices reads -devices: "all" or "" is nil (every device), else a
// comma-separated list of device numbers. It returns an error naming the
// flag and the bad value.
func parseDevices(v string) ([]int, error) {
	if v = strings.TrimSpace(v); v == "" || v == "all" {
		return nil, nil
	}
	var out []int
	for _, p := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-devices %q: want all or comma-separated device numbers >= 0 such as 0,1", v)
		}
		out = append(out, n)
	}
	return out, nil
}
