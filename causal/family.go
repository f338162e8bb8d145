package causal

import (
	"fmt"
	"path/filepath"
)

// FamilyConfig is what the shared family code needs of a family's
// config.json type.
type FamilyConfig interface {
	// Validate returns an error naming every bad field.
	Validate() error
	// Rope returns the resolved rotary settings, or an error for settings
	// Validate refuses.
	Rope() (Rope, error)
}

// ParseConfig unmarshals config.json data over defaults (the family's
// defaults) and validates the result. Malformed JSON or a field of the
// wrong type gives ParseJSON's error; an invalid value, Validate's.
func ParseConfig[C FamilyConfig](family string, data []byte, defaults C) (C, error) {
	c := defaults
	if err := ParseJSON(family, data, &c); err != nil {
		var zero C
		return zero, err
	}
	if err := c.Validate(); err != nil {
		var zero C
		return zero, err
	}
	return c, nil
}

// ReadConfig reads the config.json at path (see ReadConfigFile) and
// parses it with parse. It returns the read error as "family: read
// config: ...", or parse's error with the path appended.
func ReadConfig[C any](family, path string, parse func(data []byte) (C, error)) (C, error) {
	var zero C
	data, err := ReadConfigFile(path)
	if err != nil {
		return zero, fmt.Errorf("%s: read config: %w", family, err)
	}
	c, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
}

// Base is the part of a family's Arch that every family builds the same
// way: the validated config and its resolved rotary settings. A family's
// Arch embeds it and is made with NewArch.
type Base[C FamilyConfig] struct {
	cfg  C
	rope Rope
}

// Config returns the architecture's config.
func (b *Base[C]) Config() C { return b.cfg }

// Rope returns the config's resolved rotary settings.
func (b *Base[C]) Rope() Rope { return b.rope }

// NewArch returns the architecture that arch makes (a family's Arch,
// which embeds the Base) of cfg, or cfg's validation error.
func NewArch[C FamilyConfig, A Arch](cfg C, arch func(Base[C]) A) (A, error) {
	if err := cfg.Validate(); err != nil {
		var zero A
		return zero, err
	}
	r, _ := cfg.Rope() // Validate checked it
	return arch(Base[C]{cfg: cfg, rope: r}), nil
}

// LoadFamily reads the config.json in dir with read and loads the
// checkpoint as LoadConfig does. It returns read's error, or LoadConfig's.
func LoadFamily[C any, A Arch](dir string, opt Options, read func(path string) (C, error), arch func(C) (A, error)) (*Model, error) {
	cfg, err := read(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	return LoadConfig(dir, cfg, opt, arch)
}

// LoadConfig loads cfg's weights (and tokenizer) from dir; see LoadDir. It
// returns arch's error on cfg (naming dir), or LoadDir's.
func LoadConfig[C any, A Arch](dir string, cfg C, opt Options, arch func(C) (A, error)) (*Model, error) {
	a, err := arch(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	return LoadDir(dir, a, opt)
}

// RandomConfig returns a model with cfg's shapes and random weights; see
// Random. It returns arch's error on cfg, or Random's.
func RandomConfig[C any, A Arch](cfg C, seed uint64, opt Options, arch func(C) (A, error)) (*Model, error) {
	a, err := arch(cfg)
	if err != nil {
		return nil, err
	}
	return Random(a, seed, opt)
}

// SameWindows reports whether all layers (window(l) for l in [0, layers))
// have the same attention window: whether blocks are the same function of
// their weights, for SharesLayers.
func SameWindows(layers int, window func(layer int) int) bool {
	for l := 1; l < layers; l++ {
		if window(l) != window(0) {
			return false
		}
	}
	return true
}
