// Package sae loads, uses and trains sparse autoencoders in SAELens' format.
package sae
