//go:build enginewired

// This file wires the in-process engine (package engine, on the engine
// branch) into `govene session serve`. At the merge of package engine,
// drop the build tag above and delete engine_unwired.go.

package main

import (
	"github.com/govene/govene"
	"github.com/govene/govene/engine"
)

// newEngine returns the engine a session serves: the in-process one.
func newEngine() (govene.Engine, error) {
	return engine.New(engine.Options{})
}
