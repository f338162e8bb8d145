package govene

import (
	"testing"

	"github.com/govene/govene/internal/testx"
)

// TestNoGoMLXDeps keeps the package light: a client of a session builds it
// without GoMLX or cgo.
func TestNoGoMLXDeps(t *testing.T) {
	testx.NoGoMLXDeps(t, false, "github.com/govene/govene")
}
