package models

import (
	"fmt"
	"strings"
	"testing"

	"github.com/govene/govene/internal/testxla"
	"github.com/govene/govene/lm"
)

// BenchmarkRunDevices runs a batch of prompts through the shipped model on
// the XLA CPU plugin, on device 0 alone and split across all its devices
// (whether host devices pay on a CPU: lm.DefaultDevices' rule): Run, with
// the logits, and RunSites of one mid-model site, without them.
func BenchmarkRunDevices(b *testing.B) {
	xb := testxla.Devices(b)
	site := lm.Site{Layer: 3, Component: lm.BlockOutput}
	for _, n := range []int{16, 32} {
		for _, pick := range [][]int{{0}, allDevices(xb.NumDevices())} {
			m, err := Load("", Options{Backend: xb, Devices: pick})
			if err != nil {
				b.Fatal(err)
			}
			r := lm.NewRunner(m, m.PadID())
			prompts := make([]lm.Prompt, n)
			for i := range prompts {
				prompts[i] = m.Encode(strings.Repeat("The Eiffel Tower is in the city of ", 1+i%3))
			}
			for _, run := range []struct {
				name string
				f    func() (*lm.Result, error)
			}{
				{"Run", func() (*lm.Result, error) { return r.Run(prompts) }},
				{"RunSites", func() (*lm.Result, error) { return r.RunSites(prompts, site) }},
			} {
				b.Run(fmt.Sprintf("%s/batch=%d/devices=%d", run.name, n, len(pick)), func(b *testing.B) {
					if _, err := run.f(); err != nil { // compile
						b.Fatal(err)
					}
					b.ResetTimer()
					for b.Loop() {
						if _, err := run.f(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
