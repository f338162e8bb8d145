package facts

import (
	"testing"

	"github.com/govene/govene/internal/testx"
)

// TestNoGoMLXDeps keeps the package plain data: a notebook cell that uses
// only a session client builds it without GoMLX or cgo.
func TestNoGoMLXDeps(t *testing.T) {
	testx.NoGoMLXDeps(t, false, "github.com/govene/govene/shipped/facts")
}
