package main

import (
	"github.com/govene/govene"
	"github.com/govene/govene/engine"
)

// newEngine returns the engine a session serves: the in-process one.
func newEngine() (govene.Engine, error) {
	return engine.New(engine.Options{})
}
