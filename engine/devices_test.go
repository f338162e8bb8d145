package engine

import (
	"slices"
	"strings"
	"testing"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/internal/testxla"
	"github.com/govene/govene/lm"
)

// Options.Devices reaches the models the engine loads, and a device the
// backend does not have is refused by New, naming the option.
func TestEngineDevices(t *testing.T) {
	if _, err := New(Options{Backend: "go", Devices: []int{0, 3}}); err == nil || !strings.Contains(err.Error(), "options.devices [0 3]") ||
		!strings.Contains(err.Error(), "device 3 is out of range") {
		t.Errorf("New(devices [0 3] on go) error = %v, want one naming options.devices and device 3", err)
	}
	testxla.Devices(t)
	for _, c := range []struct {
		devices, want []int
	}{
		{nil, []int{0}}, // the default on a CPU
		{[]int{3, 1}, []int{3, 1}},
	} {
		e, err := New(Options{Backend: "xla:" + backend.InstalledPlugin(), Devices: c.devices})
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.model("")
		if err != nil {
			t.Fatal(err)
		}
		if got := lm.DevicesOf(m.Model()).Nums(); !slices.Equal(got, c.want) {
			t.Errorf("engine with devices %v: model devices %v, want %v", c.devices, got, c.want)
		}
		e.Close()
	}
}
