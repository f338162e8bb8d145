package beamjob

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/govene/govene/job"
)

// Metric names, in namespace Namespace: Kept counts shards that were
// already finished in Out (verified, not recomputed), Computed the shards
// computed, and Rows is the distribution of rows per computed shard.
const (
	Namespace = "govene"
	Kept      = "kept"
	Computed  = "computed"
	Rows      = "rows"
)

var (
	keptCounter     = beam.NewCounter(Namespace, Kept)
	computedCounter = beam.NewCounter(Namespace, Computed)
	rowsDist        = beam.NewDistribution(Namespace, Rows)
)

func init() {
	register.DoFn3x1[context.Context, int, func(string), error](&shardFn{})
	register.DoFn3x1[context.Context, []byte, func(*string) bool, error](&manifestFn{})
	register.Emitter1[string]()
	register.Iter1[string]()
}

// shardFn computes the shards of one job: each element is a shard index,
// each output the shard's job.ShardInfo as JSON.
type shardFn struct {
	// Job is the launcher's plan; its spec is the process cache's key.
	Job planned `json:"job"`

	l *loaded
}

// Setup plans the job and loads its model once per worker process.
func (f *shardFn) Setup(ctx context.Context) error {
	l, err := f.Job.load()
	if err != nil {
		return err
	}
	if _, err := l.loadWorker(); err != nil {
		return fmt.Errorf("beamjob: loading the worker: %w", err)
	}
	f.l = l
	return nil
}

// ProcessElement keeps shard index if it is already finished in Out, else
// computes and writes it; it emits the shard's info as JSON, and fails the
// bundle with an error naming the shard.
func (f *shardFn) ProcessElement(ctx context.Context, index int, emit func(string)) error {
	plan := f.l.plan
	if index < 0 || index >= len(plan.Shards) {
		return fmt.Errorf("beamjob: shard index %d out of range [0, %d)", index, len(plan.Shards))
	}
	sh := plan.Shards[index]
	info, ok := plan.Verify(sh)
	if ok {
		keptCounter.Inc(ctx, 1)
	} else {
		w, err := f.l.loadWorker()
		if err != nil {
			return fmt.Errorf("beamjob: shard %d (%s): %w", sh.Index, sh.File, err)
		}
		info, err = w.RunShard(ctx, sh)
		if err != nil {
			return fmt.Errorf("beamjob: shard %d (%s, rows [%d, %d)): %w", sh.Index, sh.File, sh.First, sh.End, err)
		}
		computedCounter.Inc(ctx, 1)
		rowsDist.Update(ctx, int64(info.Rows))
	}
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("beamjob: shard %d (%s): encoding its info: %w", sh.Index, sh.File, err)
	}
	emit(string(b))
	return nil
}

// manifestFn writes manifest.json once every shard is done: its single
// element is the impulse, the shards' infos come as a side input.
type manifestFn struct {
	// Job is the launcher's plan.
	Job planned `json:"job"`
}

// ProcessElement decodes every shard's info and writes the manifest; it
// returns an error naming a malformed info or a missing or repeated shard.
func (f *manifestFn) ProcessElement(ctx context.Context, _ []byte, infos func(*string) bool) error {
	l, err := f.Job.load()
	if err != nil {
		return err
	}
	var all []job.ShardInfo
	var s string
	for infos(&s) {
		var info job.ShardInfo
		if err := json.Unmarshal([]byte(s), &info); err != nil {
			return fmt.Errorf("beamjob: decoding shard info %q: %w", s, err)
		}
		all = append(all, info)
	}
	if err := l.plan.WriteManifest(all); err != nil {
		return fmt.Errorf("beamjob: writing the manifest of %d shards: %w", len(all), err)
	}
	return nil
}
