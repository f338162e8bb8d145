package job

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/internal/progress"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/safetensors"
)

// Worker holds a loaded model and what a job kind needs (a runner and the
// sites, or an intervenable) to compute shards of one plan. RunShard is
// safe for concurrent use on different shards.
type Worker struct {
	plan  *Plan
	model models.Model
	sites []lm.Site
	// collect
	runner *lm.Runner
	// patch and iia
	iv     *pv.Model
	groups int   // source groups of iv
	group  []int // group of each of iv's representations

	bar *progress.Bar
}

// NewWorker loads p's model once (models.Load with p's backend), and for
// patch and iia the intervenable (pv.Load of Spec.Intervenable, or a
// vanilla interchange at Sites[0]). Progress, a bar over p's rows, goes to
// progress; nil is silent. It returns an error naming the model, the site
// or the intervenable that cannot be loaded or does not fit the model.
func NewWorker(p *Plan, progressOut io.Writer) (*Worker, error) {
	if p == nil {
		return nil, fmt.Errorf("job: NewWorker: nil plan; make one with NewPlan")
	}
	spec := p.Spec
	m, err := models.Load(spec.Model, models.Options{Workload: backend.Workload{
		Name: "job " + spec.Kind, Backend: spec.Backend, Tokens: int64(p.Rows) * 32,
	}, Devices: spec.Devices})
	if err != nil {
		return nil, fmt.Errorf("job: model %q: %w", spec.Model, err)
	}
	w := &Worker{plan: p, model: m}
	sites, err := spec.parseSites()
	if err != nil {
		return nil, err
	}
	for i, s := range sites {
		if err := m.Dims().CheckSite(s); err != nil {
			return nil, fmt.Errorf("job: spec sites[%d] %q: %w", i, spec.Sites[i], err)
		}
	}
	w.sites = sites
	switch spec.Kind {
	case Collect:
		w.runner = lm.NewRunner(m, m.PadID())
	case Patch, IIA:
		if err := models.CheckText(m); err != nil {
			return nil, fmt.Errorf("job: %w", err)
		}
		if err := w.loadIntervenable(); err != nil {
			return nil, err
		}
	}
	w.bar = progress.New(progressOut, "job "+spec.Kind, int64(p.Rows), progress.Options{})
	return w, nil
}

// loadIntervenable sets w.iv from the spec: a saved intervenable or a
// vanilla interchange at the one site.
func (w *Worker) loadIntervenable() error {
	spec := w.plan.Spec
	var err error
	if spec.Intervenable != "" {
		w.iv, err = pv.Load(spec.Intervenable, w.model)
		if err != nil {
			return fmt.Errorf("job: spec intervenable %q: %w", spec.Intervenable, err)
		}
	} else {
		s := w.sites[0]
		w.iv, err = pv.New(w.model, pv.Config{Representations: []pv.RepresentationConfig{
			{Layer: s.Layer, Component: s.Component, InterventionType: pv.Vanilla},
		}})
		if err != nil {
			return fmt.Errorf("job: vanilla interchange at site %s: %w", s, err)
		}
	}
	// Source groups as pv counts them: by group key when any is set, else
	// one per representation.
	reps := w.iv.Config().Representations
	w.group = make([]int, len(reps))
	var keys []int
	for _, r := range reps {
		if r.GroupKey != nil && !slices.Contains(keys, *r.GroupKey) {
			keys = append(keys, *r.GroupKey)
		}
	}
	if len(keys) == 0 {
		for i := range reps {
			w.group[i] = i
		}
		w.groups = len(reps)
		return nil
	}
	slices.Sort(keys)
	for i, r := range reps {
		w.group[i] = slices.Index(keys, *r.GroupKey)
	}
	w.groups = len(keys)
	return nil
}

// Close finishes the progress bar. The Worker may not be used after.
func (w *Worker) Close() {
	if w != nil {
		w.bar.Finish()
	}
}

// RunShard computes shard sh (one of the plan's shards) in batches of
// Spec.BatchSize rows and writes it, then its sidecar, atomically to the
// plan's Out (removing an older sidecar first, so a crash in between
// leaves the shard unfinished). It returns the shard's info, or an error
// for a shard not in the plan, a bad example (naming the dataset line), a
// dataset changed since planning, a failed forward pass or write, or ctx's
// error when cancelled between batches.
func (w *Worker) RunShard(ctx context.Context, sh Shard) (ShardInfo, error) {
	p := w.plan
	if sh.Index < 0 || sh.Index >= len(p.Shards) || p.Shards[sh.Index] != sh {
		return ShardInfo{}, fmt.Errorf("job: shard %d (rows [%d, %d)) is not a shard of this plan (%d shards)", sh.Index, sh.First, sh.End, len(p.Shards))
	}
	if err := ctx.Err(); err != nil {
		return ShardInfo{}, err
	}
	rows, err := w.readShard(sh)
	if err != nil {
		return ShardInfo{}, err
	}
	var out shardOut
	switch p.Spec.Kind {
	case Collect:
		out, err = w.collect(ctx, rows)
	case Patch:
		out, err = w.patch(ctx, rows)
	case IIA:
		out, err = w.iia(ctx, rows)
	}
	if err != nil {
		return ShardInfo{}, fmt.Errorf("job: shard %d: %w", sh.Index, err)
	}
	lines := make([]int64, len(rows))
	for i, r := range rows {
		lines[i] = int64(r.line)
	}
	out.tensors = append(out.tensors, safetensors.I64Tensor("row", []int{len(rows)}, lines))
	return w.write(sh, out)
}

// readShard reads and parses the rows of sh.
func (w *Worker) readShard(sh Shard) ([]row, error) {
	spec := w.plan.Spec
	f, err := openDataset(spec.Dataset)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n := sh.End - sh.First
	rows := make([]row, 0, n)
	h := sha256.New()
	err = eachRow(spec.Dataset, spec.Kind, f, nil, sh.Offset, sh.Line, func(r row, rec []byte, _ int64) error {
		hashRow(h, rec)
		rows = append(rows, r)
		if len(rows) == n {
			return errStop
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	unit, from := "line", sh.Line+1 // JSONL: 1-based line numbers
	if isParquet(spec.Dataset) {
		unit, from = "row", sh.Line // Parquet: 0-based row indices
	}
	if len(rows) != n {
		return nil, fmt.Errorf("job: dataset %s differs from the planned one: shard %d wants %d rows from %s %d, the file has %d (every worker needs the same dataset; rerun the job if it changed)", spec.Dataset, sh.Index, n, unit, from, len(rows))
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != sh.RowsSHA256 {
		return nil, fmt.Errorf("job: dataset %s differs from the planned one: shard %d's rows (%ss %d to %d) have sha256 %s, the plan's %s (every worker needs the same dataset; rerun the job if it changed)",
			spec.Dataset, sh.Index, unit, from, from+rows[n-1].line-sh.Line, sum, sh.RowsSHA256)
	}
	return rows, nil
}

// batches calls fn on consecutive slices of rows of the spec's batch size,
// checking ctx between them and counting done rows on the bar.
func (w *Worker) batches(ctx context.Context, rows []row, fn func(batch []row) error) error {
	bs := w.plan.Spec.BatchSize
	for s := 0; s < len(rows); s += bs {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := rows[s:min(s+bs, len(rows))]
		if err := fn(batch); err != nil {
			return err
		}
		w.bar.Add(int64(len(batch)))
	}
	return nil
}

// encode tokenizes text of row r's field, checking it fits the model.
func (w *Worker) encode(r row, field, text string) (lm.Prompt, error) {
	p := w.model.Encode(text)
	return p, w.checkPrompt(r, field, p)
}

// checkPrompt checks a prompt of row r's field against the model's sizes.
func (w *Worker) checkPrompt(r row, field string, p lm.Prompt) error {
	d := w.model.Dims()
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", r.at(w.plan.Spec.Dataset, field), fmt.Sprintf(format, args...))
	}
	if p.Len() == 0 {
		return fail("no tokens")
	}
	if p.Len() > d.Positions {
		return fail("%d tokens; the model takes at most %d", p.Len(), d.Positions)
	}
	for j, id := range p.IDs {
		if id < 0 || id >= d.Vocab {
			return fail("token %d: id %d out of range [0, %d)", j, id, d.Vocab)
		}
	}
	return nil
}

// token returns the id of a single-token text of row r's field.
func (w *Worker) token(r row, field, text string) (int, error) {
	id, err := models.TokenID(w.model, text)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", r.at(w.plan.Spec.Dataset, field), err)
	}
	return id, nil
}
