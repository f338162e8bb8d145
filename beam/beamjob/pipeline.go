package beamjob

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/govene/govene/job"
)

// Build adds plan's job to scope s: the shard indices, reshuffled so that
// runners spread them over workers, computed (or kept when already
// finished) by a DoFn that loads the model once per worker process, and a
// final step that writes manifest.json from every shard's info. It returns
// an error for a nil plan.
func Build(s beam.Scope, plan *job.Plan) error { return build(s, plan, false) }

// build is Build, with each worker's progress over the rows on its stderr
// when progress is set.
func build(s beam.Scope, plan *job.Plan, progress bool) error {
	if plan == nil {
		return errors.New("beamjob: Build: nil plan")
	}
	p, err := newPlanned(plan)
	if err != nil {
		return err
	}
	p.Progress = progress
	s = s.Scope("govene." + plan.Spec.Kind)
	indices := make([]int, len(plan.Shards))
	for i := range indices {
		indices[i] = i
	}
	shards := beam.CreateList(s, indices)
	shards = beam.Reshuffle(s, shards)
	infos := beam.ParDo(s, &shardFn{Job: p}, shards)
	beam.ParDo0(s, &manifestFn{Job: p}, beam.Impulse(s), beam.SideInput{Input: infos})
	return nil
}

// Counts are the pipeline's shard counters: as the runner reports them,
// or, when they do not add up to the job's shards (a runner without
// metrics, or Prism's committed counters lagging its last bundle), counted
// from the shard files: one written before the run was kept, the others
// computed.
type Counts struct {
	// Kept is the number of shards found finished and kept.
	Kept int64
	// Computed is the number of shards computed.
	Computed int64
}

// Options configure Run.
type Options struct {
	// Execute runs the pipeline. Nil runs it with beamx.RunWithMetrics: the
	// runner named by Beam's -runner flag, Prism when unset.
	Execute func(context.Context, *beam.Pipeline) (beam.PipelineResult, error)
	// Counts, when not nil, receives the counters the runner reports (left
	// zero by a runner that reports none).
	Counts *Counts
	// Progress shows each worker's progress over the job's rows on the
	// worker's stderr: a bar on a terminal (Prism runs the worker in the
	// launching process), a line per tenth in a log (a cluster's workers).
	Progress bool
}

// Run plans spec, checks or records it in Out (job.Plan.Prepare), runs it
// as a Beam pipeline and returns the manifest it wrote. Beam must be
// initialized (beam.Init) first. It returns an error for an invalid spec or
// dataset, an Out holding a different job, a failed pipeline (naming the
// failed shard), or a missing manifest. With Beam's -async flag it returns
// a nil manifest and nil error once the job is submitted.
func Run(ctx context.Context, spec job.Spec, opts Options) (*job.Manifest, error) {
	plan, err := job.NewPlan(spec)
	if err != nil {
		return nil, err
	}
	if err := plan.Prepare(); err != nil {
		return nil, err
	}
	p, s := beam.NewPipelineWithRoot()
	if err := build(s, plan, opts.Progress); err != nil {
		return nil, err
	}
	execute := opts.Execute
	if execute == nil {
		execute = beamx.RunWithMetrics
	}
	start := time.Now()
	res, err := execute(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("beamjob: %s job over %s: %w", spec.Kind, spec.Dataset, err)
	}
	if *jobopts.Async {
		return nil, nil
	}
	if opts.Counts != nil {
		c := Counts{}
		if res != nil {
			c = countsOf(res.Metrics())
		}
		if c.Kept+c.Computed != int64(len(plan.Shards)) {
			// The runner reported none, or (Prism, about once in 30 runs
			// here) reported before its last bundle's counters were
			// committed: count from the files instead.
			c = countFiles(plan, start)
		}
		*opts.Counts = c
	}
	m, err := job.ReadManifest(spec.Out)
	if err != nil {
		return nil, fmt.Errorf("beamjob: the pipeline finished without a manifest: %w", err)
	}
	return m, nil
}

// countFiles counts the shards of plan whose file predates start as kept
// (a kept shard's file is left untouched) and the others as computed (a
// computed shard's file is renamed into place during the run).
func countFiles(plan *job.Plan, start time.Time) Counts {
	var c Counts
	for _, sh := range plan.Shards {
		if st, err := os.Stat(filepath.Join(plan.Spec.Out, sh.File)); err == nil && st.ModTime().Before(start) {
			c.Kept++
		} else {
			c.Computed++
		}
	}
	return c
}

// countsOf sums the committed (else attempted) Kept and Computed counters.
func countsOf(r metrics.Results) Counts {
	var c Counts
	for _, cr := range r.AllMetrics().Counters() {
		if cr.Namespace() != Namespace {
			continue
		}
		switch cr.Name() {
		case Kept:
			c.Kept += cr.Result()
		case Computed:
			c.Computed += cr.Result()
		}
	}
	return c
}
