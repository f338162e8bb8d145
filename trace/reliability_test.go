package trace

import (
	"math"
	"strings"
	"testing"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/sweep"
)

// Hostile trace configs give an error naming the field and the value.
func TestReliabilityRun(t *testing.T) {
	c := gpt2.DefaultConfig()
	c.NLayer, c.NHead, c.NEmbd, c.NPositions = 2, 2, 16, 16
	m, err := gpt2.Random(c, 1, gpt2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ok := Config{Prompt: "The Space Needle is in downtown", Subject: "Space Needle", Target: " Seattle", Seed: 1}
	with := func(f func(*Config)) Config { c := ok; f(&c); return c }
	for _, tt := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"negative noise scale", with(func(c *Config) { c.NoiseScale = -3 }), []string{"noise_scale: -3"}},
		{"NaN noise scale", with(func(c *Config) { c.NoiseScale = math.NaN() }), []string{"noise_scale: NaN"}},
		{"infinite noise scale", with(func(c *Config) { c.NoiseScale = math.Inf(1) }), []string{"noise_scale: +Inf"}},
		{"negative window", with(func(c *Config) { c.Window = -1 }), []string{"window: -1 must not be negative"}},
		{"empty prompt", with(func(c *Config) { c.Prompt = "" }), []string{"prompt: empty"}},
		{"empty subject", with(func(c *Config) { c.Subject = "" }), []string{`subject "" is not in the prompt`}},
		{"prompt longer than the model takes", with(func(c *Config) { c.Prompt = strings.Repeat("The Space Needle is in downtown ", 4) }), []string{"the model takes at most 16"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(m, sweep.New(m), tt.cfg)
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q, want it to contain %q", err, w)
				}
			}
		})
	}
	if _, err := Run(nil, nil, ok); err == nil || !strings.Contains(err.Error(), "nil model or Sweeper") {
		t.Errorf("nil model: error %v", err)
	}
}
