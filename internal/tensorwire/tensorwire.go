// Package tensorwire lets package session mark govene.Tensor values for
// the framed wire form and read what the JSON decoder left in them,
// without making that state part of govene's public API. Package govene
// sets StateOf in its init; nothing else may set it.
package tensorwire

// State is a govene.Tensor's wire state: Ref is 1 + the index of the blob
// that holds its values in a framed body being encoded (0: inline);
// Pending is 1 + the index of the blob a tensor decoded from a framed
// body still waits for (0: none).
type State struct{ Ref, Pending int }

// StateOf returns the wire state of t, a *govene.Tensor; it panics on any
// other type (a bug in the caller).
var StateOf func(t any) *State

// MaxBlobs bounds the number of blobs in one framed body.
const MaxBlobs = 1 << 20
