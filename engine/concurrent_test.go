package engine

import (
	"reflect"
	"sync"
	"testing"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
)

// The concurrency test runs several goroutines on one engine's model,
// cache and intervenable model at once and compares every result with the
// same call made serially. Run it under the race detector with
//
//	go test -race -gcflags='github.com/gomlx/...=-d=checkptr=0' -run Concurrent ./engine/
//
// (the flag turns off checkptr in GoMLX's packages only, whose matmul
// kernels trip it; see package pv's concurrency tests).
func TestConcurrentUse(t *testing.T) {
	m, gm := shipped(t)
	base, src := gm.Encode("The Colosseum is in the city of"), gm.Encode("The Eiffel Tower is in the city of")
	paris, _ := gm.TokenID(" Paris")
	x, err := m.New(patchConfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.RunWithCache([]govene.Prompt{src})
	if err != nil {
		t.Fatal(err)
	}
	sc := govene.SweepConfig{Component: lm.BlockOutput, Layers: []int{2}, Positions: []int{5},
		Metric: govene.MetricSpec{Kind: govene.MetricTokenProb, Tokens: []int{paris}}}
	calls := []func() (any, error){
		func() (any, error) {
			return x.Forward([]govene.Prompt{base}, govene.Sources(src), govene.At(src.Last(), base.Last()))
		},
		func() (any, error) {
			return x.Forward([]govene.Prompt{base}, govene.SourceCacheIDs(c.ID()), govene.At(src.Last(), base.Last()))
		},
		func() (any, error) {
			return m.Run([]govene.Prompt{base}, govene.Site{Layer: 1, Component: lm.MLPOutput})
		},
		func() (any, error) { return c.Site(govene.Site{Layer: 4, Component: lm.AttentionOutput}) },
		func() (any, error) { return m.Patch(base, src, sc, nil) },
		func() (any, error) {
			e, _ := testEngine()
			return e.Model("shipped")
		},
		func() (any, error) {
			tmp, err := m.RunWithCache([]govene.Prompt{base})
			if err != nil {
				return nil, err
			}
			v, err := tmp.Site(govene.Site{Layer: 0, Component: lm.BlockOutput})
			if err != nil {
				return nil, err
			}
			return v.Shape, tmp.Release()
		},
	}
	want := make([]any, len(calls))
	for i, call := range calls {
		if want[i], err = call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	const goroutines = 4
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for k := range calls {
				i := (k + g) % len(calls)
				got, err := calls[i]()
				if err != nil {
					t.Errorf("goroutine %d, call %d: %v", g, i, err)
				} else if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("goroutine %d, call %d: result differs from the serial call's", g, i)
				}
			}
		})
	}
	wg.Wait()
}
