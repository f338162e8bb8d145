//go:build !enginewired

package main

import "github.com/govene/govene"

// newEngine returns the engine a session serves; nil until package engine
// is merged (engine_wiring.go, build tag enginewired, holds the wiring):
// the session then serves the built-in methods only.
func newEngine() (govene.Engine, error) { return nil, nil }
