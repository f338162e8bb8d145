package safetensors

import (
	"math"
	"testing"
)

func TestF16ToF32(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		in   uint16
		want uint32 // float32 bit pattern
	}{
		{"+0", 0x0000, 0x00000000},
		{"-0", 0x8000, 0x80000000},
		{"1", 0x3c00, math.Float32bits(1)},
		{"-2", 0xc000, math.Float32bits(-2)},
		{"0.5", 0x3800, math.Float32bits(0.5)},
		{"1+2^-10", 0x3c01, math.Float32bits(1 + 1.0/1024)},
		{"~1/3", 0x3555, math.Float32bits(0.333251953125)},
		{"max 65504", 0x7bff, math.Float32bits(65504)},
		{"-max", 0xfbff, math.Float32bits(-65504)},
		{"min normal 2^-14", 0x0400, math.Float32bits(float32(math.Ldexp(1, -14)))},
		{"min subnormal 2^-24", 0x0001, math.Float32bits(float32(math.Ldexp(1, -24)))},
		{"-min subnormal", 0x8001, math.Float32bits(-float32(math.Ldexp(1, -24)))},
		{"subnormal 2^-15", 0x0200, math.Float32bits(float32(math.Ldexp(1, -15)))},
		{"max subnormal 1023*2^-24", 0x03ff, math.Float32bits(float32(math.Ldexp(1023, -24)))},
		{"subnormal 5*2^-24", 0x0005, math.Float32bits(float32(math.Ldexp(5, -24)))},
		{"+inf", 0x7c00, math.Float32bits(inf)},
		{"-inf", 0xfc00, math.Float32bits(-inf)},
		{"quiet NaN", 0x7e00, 0x7fc00000},
		{"-NaN with payload", 0xfe01, 0xffc02000},
		{"signalling NaN", 0x7c01, 0x7f802000},
	}
	for _, tc := range tests {
		got := math.Float32bits(F16ToF32(tc.in))
		if got != tc.want {
			t.Errorf("%s: F16ToF32(%#04x) = %#08x (%g), want %#08x (%g)", tc.name, tc.in, got,
				math.Float32frombits(got), tc.want, math.Float32frombits(tc.want))
		}
	}
}

// TestF16ToF32Exhaustive checks every binary16 value against an
// independent, arithmetic definition of the format.
func TestF16ToF32Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		exp, mant := (h>>10)&0x1f, h&0x3ff
		var want float64
		switch exp {
		case 0x1f:
			if mant != 0 {
				if got := F16ToF32(uint16(h)); !math.IsNaN(float64(got)) || math.Signbit(float64(got)) != (sign < 0) {
					t.Fatalf("F16ToF32(%#04x) = %g, want NaN with sign %v", h, got, sign)
				}
				continue
			}
			want = math.Inf(int(sign))
		case 0:
			want = sign * math.Ldexp(float64(mant), -24)
		default:
			want = sign * math.Ldexp(float64(mant|0x400), exp-25)
		}
		got := F16ToF32(uint16(h))
		if float64(got) != want || math.Signbit(float64(got)) != (sign < 0) {
			t.Fatalf("F16ToF32(%#04x) = %g, want %g", h, got, want)
		}
	}
}

func TestBF16ToF32(t *testing.T) {
	tests := []struct {
		name string
		in   uint16
		want float32
	}{
		{"1", 0x3f80, 1},
		{"-3.140625", 0xc049, -3.140625},
		{"+0", 0x0000, 0},
		{"max", 0x7f7f, math.Float32frombits(0x7f7f0000)},
		{"min subnormal", 0x0001, math.Float32frombits(0x00010000)},
		{"+inf", 0x7f80, float32(math.Inf(1))},
		{"-inf", 0xff80, float32(math.Inf(-1))},
	}
	for _, tc := range tests {
		if got := BF16ToF32(tc.in); got != tc.want {
			t.Errorf("%s: BF16ToF32(%#04x) = %g, want %g", tc.name, tc.in, got, tc.want)
		}
	}
	if got := math.Float32bits(BF16ToF32(0x8000)); got != 0x80000000 {
		t.Errorf("BF16ToF32(-0) bits = %#x", got)
	}
	if got := math.Float32bits(BF16ToF32(0x7fc1)); got != 0x7fc10000 {
		t.Errorf("BF16ToF32(NaN 0x7fc1) bits = %#x, want 0x7fc10000", got)
	}
}
