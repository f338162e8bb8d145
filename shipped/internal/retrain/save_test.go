package retrain

import (
	"math"
	"testing"

	"github.com/govene/govene/safetensors"
)

func TestF32ToF16(t *testing.T) {
	// Every float16 value survives float16 -> float32 -> float16.
	for h := range 1 << 16 {
		f := safetensors.F16ToF32(uint16(h))
		got := F32ToF16(f)
		if math.IsNaN(float64(f)) {
			if !math.IsNaN(float64(safetensors.F16ToF32(got))) {
				t.Fatalf("NaN %#04x -> %#04x is not NaN", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Fatalf("%#04x (%g) -> %#04x", h, f, got)
		}
	}
	for _, c := range []struct {
		f    float32
		want uint16
	}{
		{1 + 1.0/2048, 0x3c00},             // tie between 1 and 1+2^-10: even (1)
		{1 + 3.0/2048, 0x3c02},             // tie: even (1+2^-9)
		{1 + 1.0/2048 + 1.0/65536, 0x3c01}, // above the tie: up
		{65520, 0x7c00},                    // rounds past the largest finite to Inf
		{65519, 0x7bff},
		{-1e-8, 0x8000},   // underflows to -0
		{6e-8, 0x0001},    // the smallest subnormal
		{0.1, 0x2e66},     // numpy: float16(0.1)
		{-2.5e-5, 0x81a3}, // a subnormal, numpy: float16(-2.5e-5)
		{float32(math.Inf(1)), 0x7c00},
	} {
		if got := F32ToF16(c.f); got != c.want {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}
