package sweep

import (
	"github.com/govene/govene/lm"
	"github.com/govene/govene/pv"
)

// MaxChunkSize bounds Config.ChunkSize.
const MaxChunkSize = 4096

// Config says what a sweep patches and how it scores each setting. Zero
// fields take their defaults; negative sizes, empty lists, repeated or
// out-of-range layers and positions, a component that does not fit the
// unit, and a metric that fails on the model's logits (a token id outside
// the vocabulary) are errors, checked in one place for both sweep paths
// before anything runs.
type Config struct {
	// Component is the site patched at each layer (default block_output).
	Component lm.Component `json:"component"`
	// Unit is "pos" for a layers x positions grid, "h" for layers x heads
	// (whole heads, every position) or "h.pos" for layers x heads at the
	// positions in Positions.
	Unit pv.Unit `json:"unit"`
	// Layers to sweep (default all).
	Layers []int `json:"layers,omitempty"`
	// Positions: for "pos", the columns (default every position of the
	// base); for "h.pos", the positions patched in every head (default the
	// base's last).
	Positions []int `json:"positions,omitempty"`
	// Window patches the layers l-Window/2 .. l+(Window-1)/2 (clipped) for
	// row l, as ROME does for MLP and attention (0: the default 1, layer l
	// only).
	Window int `json:"window,omitempty"`
	// Metric scores a run (required).
	Metric Metric `json:"-"`
	// ChunkSize is how many settings run in one batch at most (0: the
	// default 32; at most MaxChunkSize).
	ChunkSize int `json:"chunk_size,omitempty"`
	// MaxBytes bounds the activations of one batch (0: 1 GiB): chunks
	// shrink, down to one setting, so that a batch's estimated float32
	// activations (one block's, plus the logits it keeps) stay under it.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// OnProgress, when set, is called after each chunk with settings done
	// and the total.
	OnProgress func(done, total int) `json:"-"`
}

// newGrid returns a rows x cols grid of zeros.
func newGrid(rows, cols int) [][]float64 {
	g := make([][]float64, rows)
	for r := range g {
		g[r] = make([]float64, cols)
	}
	return g
}
