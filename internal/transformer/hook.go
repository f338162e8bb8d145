package transformer

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.

	"github.com/govene/govene/lm"
)

// At is an lm.Hook bound to one layer: it is called with a component and
// the value computed there and returns the value the pass goes on with (x
// itself to only read the site). A nil At leaves every site alone.
type At func(c lm.Component, x *Node) *Node

// Bind returns the At that calls hook at layer's sites (layer -1 for the
// global ones). A nil hook gives a nil At.
func Bind(hook lm.Hook, layer int) At {
	if hook == nil {
		return nil
	}
	return func(c lm.Component, x *Node) *Node { return hook(lm.Site{Layer: layer, Component: c}, x) }
}

// Call calls at at component c with x, or returns x when at is nil.
func (at At) Call(c lm.Component, x *Node) *Node {
	if at == nil {
		return x
	}
	return at(c, x)
}
