package views

import (
	"testing"

	"github.com/govene/govene/internal/testx"
)

// TestViewsNoGoMLX checks that package views links no GoMLX, so a notebook
// cell that explores through a session builds fast (gonbui's net brings
// runtime/cgo).
func TestViewsNoGoMLX(t *testing.T) {
	testx.NoGoMLXDeps(t, true, "./")
}
