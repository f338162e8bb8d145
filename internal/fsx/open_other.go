//go:build !unix

package fsx

import "os"

// openNoBlock opens path read-only (this platform has no O_NONBLOCK; the
// stat check before it still refuses named pipes and devices).
func openNoBlock(path string) (*os.File, error) { return os.Open(path) }
