package session

import (
	"github.com/govene/govene"
	"github.com/govene/govene/internal/tensorwire"
)

// Float32s is govene.Float32s: a []float32 that travels as the base64 of
// its little-endian bytes (or decodes from a JSON array of numbers).
type Float32s = govene.Float32s

// Tensor is govene.Tensor, a float32 tensor that travels out of line: in
// a request or a result sent by Client.Call or returned by a session
// method, each Tensor (in an exported field, a slice, a map, behind a
// pointer or an interface) goes as raw little-endian bytes after the JSON
// (see Marshal), which costs about a memory copy instead of base64 and
// JSON scanning. Encoded by plain encoding/json (a streamed event, a
// Tensor inside a type with its own MarshalJSON), it is the object
// {"shape":[...],"data":<Float32s>}.
type Tensor = govene.Tensor

// maxBlobs bounds the number of blobs in one body.
const maxBlobs = tensorwire.MaxBlobs

// wire returns t's wire state.
func wire(t *Tensor) *tensorwire.State { return tensorwire.StateOf(t) }
