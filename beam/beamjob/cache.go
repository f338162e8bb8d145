package beamjob

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/govene/govene/job"
)

// loaded is one job's plan and worker in this process, shared by every DoFn
// instance of that job.
type loaded struct {
	planOnce sync.Once
	plan     *job.Plan
	planErr  error
	// progress sends the worker's progress to stderr.
	progress bool

	// worker is shared by the bundles this process runs concurrently
	// (job.Worker.RunShard is safe for concurrent use).
	workerOnce sync.Once
	worker     *job.Worker
	workerErr  error
}

// process holds the jobs loaded in this worker process, keyed by the
// launcher's plan (spec JSON and dataset hash), so that the bundles and DoFn
// instances of one job reuse one model. Entries live as long as the process.
var process = struct {
	sync.Mutex
	jobs map[planned]*loaded
}{jobs: map[planned]*loaded{}}

// jobFor returns this process's entry for the job p, creating it on first
// use.
func jobFor(p planned) *loaded {
	process.Lock()
	defer process.Unlock()
	l, ok := process.jobs[p]
	if !ok {
		l = &loaded{}
		process.jobs[p] = l
	}
	return l
}

// planned is what the launcher planned; a worker checks that its own plan
// (from the same spec, reading the dataset where it is mounted) matches.
type planned struct {
	Spec          string `json:"spec"`
	SpecHash      string `json:"spec_hash"`
	DatasetSHA256 string `json:"dataset_sha256"`
	Rows          int    `json:"rows"`
	Shards        int    `json:"shards"`
	// Progress shows each worker's progress over the rows on its stderr.
	Progress bool `json:"progress,omitempty"`
}

// newPlanned records plan for the workers.
func newPlanned(plan *job.Plan) (planned, error) {
	b, err := json.Marshal(plan.Spec)
	if err != nil {
		return planned{}, fmt.Errorf("beamjob: encoding the spec: %w", err)
	}
	return planned{Spec: string(b), SpecHash: plan.SpecHash, DatasetSHA256: plan.DatasetSHA256,
		Rows: plan.Rows, Shards: len(plan.Shards)}, nil
}

// load returns this process's plan for p, planning it on first use, and an
// error when the spec does not decode, the plan fails, or the dataset seen
// here differs from the launcher's.
func (p planned) load() (*loaded, error) {
	l := jobFor(p)
	l.planOnce.Do(func() {
		var spec job.Spec
		if err := json.Unmarshal([]byte(p.Spec), &spec); err != nil {
			l.planErr = fmt.Errorf("beamjob: decoding the spec %s: %w", p.Spec, err)
			return
		}
		l.plan, l.planErr = job.NewPlan(spec)
		l.progress = p.Progress
	})
	if l.planErr != nil {
		return nil, l.planErr
	}
	switch got := l.plan; {
	case got.DatasetSHA256 != p.DatasetSHA256 || got.Rows != p.Rows:
		return nil, fmt.Errorf("beamjob: dataset %s on this worker has sha256 %s and %d rows; the job was planned with sha256 %s and %d rows",
			got.Spec.Dataset, got.DatasetSHA256, got.Rows, p.DatasetSHA256, p.Rows)
	case got.SpecHash != p.SpecHash || len(got.Shards) != p.Shards:
		return nil, fmt.Errorf("beamjob: spec hash %s and %d shards on this worker; the job was planned with %s and %d shards",
			got.SpecHash, len(got.Shards), p.SpecHash, p.Shards)
	}
	return l, nil
}

// loadWorker returns l's worker, loading the model on first use.
func (l *loaded) loadWorker() (*job.Worker, error) {
	l.workerOnce.Do(func() {
		var progress io.Writer
		if l.progress {
			progress = os.Stderr
		}
		l.worker, l.workerErr = job.NewWorker(l.plan, progress)
	})
	return l.worker, l.workerErr
}
