package nb

import (
	"testing"

	"github.com/govene/govene/internal/testx"
)

// TestHelpersNoGoMLX checks that package nb, which every notebook cell
// imports, links no GoMLX (gonbui's net brings runtime/cgo, as any use of
// net does), so a cell that talks to a session builds fast.
func TestHelpersNoGoMLX(t *testing.T) {
	testx.NoGoMLXDeps(t, true, "./")
}
