package nb

import (
	"testing"

	"github.com/govene/govene/internal/testx"
)

// TestHelpersNoGoMLX checks that the helpers a session's notebook cell uses
// (Must, Check, Layer, Label) need no GoMLX: compiled on their own, without
// the model-loading file model.go, they link none (gonbui's net brings
// runtime/cgo, as any use of net does).
func TestHelpersNoGoMLX(t *testing.T) {
	testx.NoGoMLXDeps(t, true, "nb.go", "layer.go", "label.go")
}
