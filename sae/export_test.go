package sae

// FlatLogits gives the external tests the logits helper of the parity
// test.
var FlatLogits = flatLogits
