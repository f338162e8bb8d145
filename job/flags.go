package job

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/govene/govene/lm"
)

// BindFlags defines the flags of a job on fs, each writing its field of
// spec as it is parsed: -model, -data, -out, -sites, -positions,
// -shard-size, -batch, -backend, -devices and -intervenable. A bad value
// (an unknown site, a position other than last or all, a size out of
// range, a device list that is not "all" or distinct numbers) is a parse
// error naming the flag. The kind is not a flag: set spec.Kind, then call
// spec.Validate once parsing is done. `govene job` and govene-beam share
// these flags.
func BindFlags(fs *flag.FlagSet, spec *Spec) {
	fs.StringVar(&spec.Model, "model", "", "checkpoint: a folder, a Hugging Face cache name or a Hub name such as gpt2 (default: the small GPT-2 that ships with govene)")
	fs.StringVar(&spec.Dataset, "data", "", "the dataset: a JSONL file, one example per line, or a Parquet file (name ending in .parquet) with the same fields as columns (required)")
	fs.StringVar(&spec.Out, "out", "", "output folder for the shards and manifest.json (required; rerun with the same folder to resume)")
	fs.Func("sites", "comma-separated sites, such as blocks.3.block_output,blocks.5.mlp_output (collect: one or more; patch, iia: one, unless -intervenable)", func(v string) error {
		spec.Sites = nil
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if _, err := ParseSite(s); err != nil {
				return err
			}
			spec.Sites = append(spec.Sites, s)
		}
		return nil
	})
	fs.Func("positions", `collect: "last" (the default) or "all"`, func(v string) error {
		if v != Last && v != All {
			return fmt.Errorf("want %q or %q", Last, All)
		}
		spec.Positions = v
		return nil
	})
	fs.Func("shard-size", fmt.Sprintf("examples per shard (default %d)", DefaultShardSize), positive(&spec.ShardSize, 1<<30))
	fs.Func("batch", fmt.Sprintf("examples per forward pass (default %d)", DefaultBatchSize), positive(&spec.BatchSize, MaxBatchSize))
	fs.StringVar(&spec.Backend, "backend", "", "go, xla (the installed CPU plugin), xla:cuda, xla:/abs/path/plugin.so or auto (default: GOMLX_BACKEND, else chosen by the job's size)")
	fs.Func("devices", lm.DevicesUsage, func(v string) error {
		d, err := lm.ParseDevices(v)
		if err != nil {
			return err
		}
		for i, n := range d {
			if slices.Contains(d[:i], n) {
				return fmt.Errorf("device %d is given twice", n)
			}
		}
		spec.Devices = d
		return nil
	})
	fs.StringVar(&spec.Intervenable, "intervenable", "", "patch, iia: a folder saved by pv.Save, used instead of a vanilla interchange at -sites")
}

// positive returns a flag.Func parser of an integer in [1, limit] into p.
func positive(p *int, limit int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > limit {
			return fmt.Errorf("want an integer in [1, %d]", limit)
		}
		*p = n
		return nil
	}
}
