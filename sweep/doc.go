// Package sweep runs activation-patching sweeps and causal tracing over a
// language model: for every layer (row) and position or head (column) it
// runs the base prompt with the source's value at that site, scores the
// run with a Metric, and returns the grid (a Result).
//
// A Sweeper (New) keeps the graphs it compiled between sweeps and is safe
// for concurrent use. Patch sweeps source -> base patching; Trace is ROME's
// causal tracing, where the base is the prompt with noise on the subject's
// token embeddings (a Corruption) and the source is the clean prompt.
//
// Sweeps run one of two ways, with the same results up to float32
// rounding. The plain way batches settings through pv's Forward, each
// through the whole model. The resumed way (the default on models that
// implement lm.Resumer and lm.LayerSharer, such as gpt2) recomputes only
// what a patch can change: from the lowest patched layer up, and from the
// patched position on, starting from the base run's cached residuals, keys
// and values. Resume(false) turns it off.
//
// Every config is checked in one place before anything runs; an invalid
// one is an error naming the field, the value and the valid range.
package sweep
