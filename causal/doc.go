// Package causal is the decoder-only language model that every family
// beyond GPT-2 shares: its weights on a backend, its tokenizer, compiled
// forward passes with a hook at every site, generation with a KV cache,
// loading from a Hugging Face checkpoint (one or many safetensors files,
// float32, float16 or bfloat16) and saving.
//
// A family (packages neox, llama, gemma2) describes itself as an Arch: its
// weights by Hugging Face name and shape, and its forward pass built from
// the shared transformer pieces. Model does the rest, so that adding a
// family is its config, its weight names and its block wiring.
package causal
