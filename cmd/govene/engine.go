package main

import (
	"github.com/govene/govene"
	"github.com/govene/govene/engine"
)

// newEngine returns the engine a session serves: the in-process one, its
// models splitting batches across devices (none: the default,
// engine.Options.Devices).
func newEngine(devices ...int) (govene.Engine, error) {
	return engine.New(engine.Options{Devices: devices})
}
