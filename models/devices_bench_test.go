package models

import (
	"fmt"
	"strings"
	"testing"

	"github.com/govene/govene/internal/testxla"
	"github.com/govene/govene/lm"
)

// BenchmarkRunDevices runs a batch of prompts through the shipped model on
// the XLA CPU plugin, on device 0 alone and split across all its devices:
// whether host devices pay on a CPU (lm.DefaultDevices' rule).
func BenchmarkRunDevices(b *testing.B) {
	xb := testxla.Devices(b)
	b.Logf("backend %s: %s, %d devices", xb.Name(), xb.Description(), xb.NumDevices())
	for _, n := range []int{16, 32} {
		for _, pick := range [][]int{{0}, allDevices(xb.NumDevices())} {
			b.Run(fmt.Sprintf("batch=%d/devices=%d", n, len(pick)), func(b *testing.B) {
				m, err := Load("", Options{Backend: xb, Devices: pick})
				if err != nil {
					b.Fatal(err)
				}
				prompts := make([]lm.Prompt, n)
				for i := range prompts {
					prompts[i] = m.Encode(strings.Repeat("The Eiffel Tower is in the city of ", 1+i%3))
				}
				if _, err := m.Run(prompts); err != nil { // compile
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if _, err := m.Run(prompts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
