// Package gpt2 is GPT-2 (and checkpoints of its architecture, such as
// distilgpt2) in govene: its configuration (Config, read from a Hugging
// Face config.json and validated), its weights (Load and LoadDir read
// safetensors checkpoints from a folder, the Hugging Face cache or the Hub;
// Random draws them as transformers initializes them; Save writes them),
// and Model, an lm.TextModel that runs (Run, RunWithCache), generates with
// a KV cache (Generate) and exposes its hook sites to package pv.
//
// The forward graph is the shared transformer core (internal/transformer)
// wired as GPT-2: token plus learned position embeddings, pre-LayerNorm
// blocks with fused-QKV multi-head attention and a GELU MLP (weights in
// Conv1D's [in, out] layout), a final LayerNorm and the unembedding tied to
// the token embeddings. graph.go holds that weight mapping (Params' order
// and Hugging Face names) and the block wiring; it matches transformers'
// eager GPT-2 to float32 rounding (see the parity tests).
package gpt2
