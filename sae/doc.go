// Package sae loads, saves and uses sparse autoencoders (SAEs) in SAELens'
// format: a folder with cfg.json and sae_weights.safetensors, read from disk,
// the Hugging Face cache or the Hub.
//
// An SAE is read on the host (Load, Encode, Decode) and spliced into any
// lm.Model's forward through pv interventions (the registered types "sae"
// and "sae_topk", and pv's Addition for steering), so splices are ordinary
// pv configs: they combine with other interventions, save and load with
// pv, and generate; a session or sweep serving process that imports this
// package knows the types. FeatureActivations and TopActivating
// read features per token, Reconstruction reports SAELens' evaluation
// metrics (cross-entropy increase, KL, explained variance, L0), and the
// splice, ablation and steering interventions edit the forward.
//
// Architectures: "standard" (relu), "topk" and "jumprelu", with
// apply_b_dec_to_input and normalize_activations as the config says.
package sae
