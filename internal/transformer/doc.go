// Package transformer holds the graph building blocks that decoder-only
// language models share: attention (multi-head and grouped-query, learned
// or rotary positions, causal, sliding-window and padding masks, logit
// soft-capping, a KV cache), LayerNorm and RMSNorm, plain and gated MLPs,
// linear projections, and Forward, the skeleton that runs embeddings,
// blocks, the final norm and the unembedding with lm's hook semantics.
//
// A model family is a weight mapping plus block wiring on top of it (see
// package gpt2). Every block calls its At hook at the lm sites it computes,
// in the order a forward pass reaches them, so interventions splice in
// exactly where the family's hand-written graph would have had them.
//
// Like GoMLX's own graph functions, these panic on shape mismatches while
// the graph is built; GoMLX's NewExec recovers such panics into errors.
// Configurations are checked beforehand by their Validate methods, which
// return errors instead.
package transformer
