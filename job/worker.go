package job

import (
	"context"
	"errors"
	"io"
)

// Worker holds a loaded model and what a job kind needs (compiled graphs,
// an intervenable) to compute shards of one plan.
type Worker struct {
	plan     *Plan
	progress io.Writer
}

// NewWorker loads p's model once (and p's intervenable for iia). Progress
// bars go to progress; nil is silent. It returns an error naming the model,
// site or intervenable that cannot be loaded.
func NewWorker(p *Plan, progress io.Writer) (*Worker, error) {
	return nil, errors.New("job: not yet")
}

// RunShard computes shard sh and writes it (then its sidecar) atomically to
// the plan's Out. It returns the shard's info, or an error naming the
// dataset line for a bad example, or ctx's error when cancelled.
func (w *Worker) RunShard(ctx context.Context, sh Shard) (ShardInfo, error) {
	return ShardInfo{}, errors.New("job: not yet")
}
