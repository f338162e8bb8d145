package job

import (
	"context"
	"fmt"
	"io"
)

// shardHook, when set (by tests), is called with each shard Run computes
// (not the ones it keeps).
var shardHook func(Shard)

// Run runs spec in this process: it plans the job (NewPlan), checks or
// records it in Out (Plan.Prepare), keeps the shards Plan.Verify accepts
// (writing "job: kept N finished shards" to progress), computes the others
// with one Worker, and writes the manifest last. Progress goes to progress
// (nil: silent). It returns the manifest, or an error when the spec or the
// dataset is invalid, Out holds a different job, a shard fails, or ctx is
// cancelled (finished shards stay and a later Run keeps them).
func Run(ctx context.Context, spec Spec, progress io.Writer) (*Manifest, error) {
	p, err := NewPlan(spec)
	if err != nil {
		return nil, err
	}
	if err := p.Prepare(); err != nil {
		return nil, err
	}
	infos := make([]ShardInfo, len(p.Shards))
	var todo []Shard
	keptRows := 0
	for i, sh := range p.Shards {
		info, ok := p.Verify(sh)
		if !ok {
			todo = append(todo, sh)
			continue
		}
		infos[i] = info
		keptRows += info.Rows
	}
	if kept := len(p.Shards) - len(todo); kept > 0 && progress != nil {
		fmt.Fprintf(progress, "job: kept %d finished shards of %d\n", kept, len(p.Shards))
	}
	if len(todo) > 0 {
		w, err := NewWorker(p, progress)
		if err != nil {
			return nil, err
		}
		defer w.Close()
		w.bar.Add(int64(keptRows))
		for _, sh := range todo {
			if shardHook != nil {
				shardHook(sh)
			}
			info, err := w.RunShard(ctx, sh)
			if err != nil {
				w.bar.Abandon()
				return nil, err
			}
			infos[sh.Index] = info
		}
	}
	return p.writeManifest(infos)
}
