package main

import (
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/tutorials/internal/tut"
)

func TestCollectShapesAndValues(t *testing.T) {
	m, r, _ := tut.Run(t, func(m models.Model, o tut.Out) (*result, error) { return run(m, o) })
	checkCollected(t, m, r)
}

// checkCollected checks that each collected site has one row per token of
// the prompt, the model's width, and the values a plain run reads there.
func checkCollected(t *testing.T, m models.Model, r *result) {
	t.Helper()
	d := m.Dims().Hidden
	sites := []lm.Site{{Layer: r.Layers[0], Component: lm.BlockOutput}, {Layer: r.Layers[1], Component: lm.AttentionOutput}}
	plain, err := m.Run([]lm.Prompt{r.Prompt}, sites...)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range r.Keys {
		got := r.Collected[k]
		if want := []int{1, r.Prompt.Len(), d}; !slices.Equal(got.Shape().Dimensions, want) {
			t.Errorf("%s: shape %v, want %v", k, got.Shape().Dimensions, want)
		}
		// Collecting changes nothing and reads the site's values.
		if !slices.Equal(tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](plain.Sites[sites[i]])) {
			t.Errorf("%s: collected values differ from the site's", k)
		}
	}
}
