package sae

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/govene/govene/hub"
	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/internal/fsx"
	"github.com/govene/govene/safetensors"
)

// The file names of an SAE folder, as SAELens writes them.
const (
	CfgFile     = "cfg.json"
	WeightsFile = "sae_weights.safetensors"
)

// maxCfgSize caps cfg.json.
const maxCfgSize = 1 << 20

// Options tunes Load. Its zero value reads a folder, or the Hub through the
// cache with hub's defaults.
type Options struct {
	// Hub configures the cache and downloads (its Files are set by Load).
	Hub hub.Options
	// Subfolder is the folder of the SAE inside the directory or Hub
	// repository (SAELens releases keep one SAE per folder); it is joined
	// to any folder given after the repository id in nameOrDir.
	Subfolder string
	// Scale is the input factor for normalize_activations
	// "expected_average_only_in" (SAELens' norm_scaling_factor of the
	// release); 0 means 1. Negative, NaN or infinite is an error.
	Scale float64
}

// Load reads an SAE in SAELens' format: cfg.json and
// sae_weights.safetensors (float32, float16, bfloat16 or float64 weights:
// W_enc [d_in,d_sae], b_enc [d_sae], W_dec [d_sae,d_in], b_dec [d_in], and
// threshold [d_sae] or log_threshold for jumprelu) from the folder
// nameOrDir (or its Options.Subfolder), else from the Hugging Face cache
// or the Hub, nameOrDir then being "owner/repo" or "owner/repo/sub/folder".
//
// Errors name the file and field: a cfg.json that is not a JSON object,
// an unknown architecture or normalisation, d_in or d_sae out of range
// (checked before any weight is allocated), a weight missing, of a
// non-float dtype or of a shape other than the config's, a file that is
// not a regular file (a FIFO, a device) or a cfg.json over 1 MiB, and
// hub's errors for a repository that cannot be had.
func Load(nameOrDir string, opt Options) (*SAE, error) {
	if opt.Scale < 0 || math.IsNaN(opt.Scale) || math.IsInf(opt.Scale, 0) {
		return nil, fmt.Errorf("sae: Options.Scale %v is not valid; want a finite factor > 0 (0 means 1)", opt.Scale)
	}
	dir, err := resolve(nameOrDir, opt)
	if err != nil {
		return nil, err
	}
	s, err := loadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sae: %s: %w", dir, err)
	}
	if opt.Scale > 0 {
		s.Scale = opt.Scale
	}
	return s, nil
}

// resolve returns the local folder holding the SAE.
func resolve(nameOrDir string, opt Options) (string, error) {
	if nameOrDir == "" {
		return "", errors.New("sae: empty name or folder")
	}
	if st, err := os.Stat(nameOrDir); err == nil {
		if !st.IsDir() {
			return "", fmt.Errorf("sae: %s is %s, not a folder holding %s and %s", nameOrDir, fsx.Kind(st.Mode()), CfgFile, WeightsFile)
		}
		return filepath.Join(nameOrDir, filepath.FromSlash(opt.Subfolder)), nil
	}
	parts := strings.Split(strings.Trim(nameOrDir, "/"), "/")
	if len(parts) < 2 {
		return "", fmt.Errorf("sae: %q is neither a folder nor a Hub repository id (\"owner/repo\" or \"owner/repo/subfolder\")", nameOrDir)
	}
	repo := parts[0] + "/" + parts[1]
	sub := path.Join(append(parts[2:], opt.Subfolder)...)
	ho := opt.Hub
	prefix := ""
	if sub != "" && sub != "." {
		prefix = sub + "/"
	}
	ho.Files = []string{prefix + CfgFile, prefix + WeightsFile}
	snap, err := hub.Resolve(repo, ho)
	if err != nil {
		return "", fmt.Errorf("sae: %s (files %q): %w", repo, ho.Files, err)
	}
	return filepath.Join(snap, filepath.FromSlash(prefix)), nil
}

func loadDir(dir string) (*SAE, error) {
	data, err := fsx.ReadFile(filepath.Join(dir, CfgFile), CfgFile, maxCfgSize)
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(data)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Open(filepath.Join(dir, WeightsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := &SAE{Config: cfg, Scale: 1}
	d, n := cfg.DIn, cfg.DSAE
	read := func(name string, shape ...int) ([]float32, error) {
		info, ok := f.Info(name)
		if !ok {
			return nil, fmt.Errorf("%s: tensor %q is missing; have %q", WeightsFile, name, f.Names())
		}
		if !info.DType.IsFloat() {
			return nil, fmt.Errorf("%s: tensor %q has dtype %s; valid: F32, F16, BF16, F64", WeightsFile, name, info.DType)
		}
		if !slices.Equal(info.Shape, shape) {
			return nil, fmt.Errorf("%s: tensor %q has shape %v; cfg.json (d_in %d, d_sae %d) wants %v", WeightsFile, name, info.Shape, d, n, shape)
		}
		out := make([]float32, info.NumElements())
		if _, err := f.Float32Into(name, out); err != nil {
			return nil, fmt.Errorf("%s: %w", WeightsFile, err)
		}
		if i := slices.IndexFunc(out, func(v float32) bool { return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) }); i >= 0 {
			return nil, fmt.Errorf("%s: tensor %q has a non-finite value %v at index %d", WeightsFile, name, out[i], i)
		}
		return out, nil
	}
	if s.WEnc, err = read("W_enc", d, n); err != nil {
		return nil, err
	}
	if s.BEnc, err = read("b_enc", n); err != nil {
		return nil, err
	}
	if s.WDec, err = read("W_dec", n, d); err != nil {
		return nil, err
	}
	if s.BDec, err = read("b_dec", d); err != nil {
		return nil, err
	}
	if cfg.Architecture == ArchJumpReLU {
		if _, ok := f.Info("threshold"); !ok {
			if _, ok := f.Info("log_threshold"); ok {
				lt, err := read("log_threshold", n)
				if err != nil {
					return nil, err
				}
				for i, v := range lt {
					lt[i] = float32(math.Exp(float64(v)))
				}
				s.Threshold = lt
				return s, nil
			}
		}
		if s.Threshold, err = read("threshold", n); err != nil {
			return nil, err
		}
	}
	if info, ok := f.Info("scaling_factor"); ok && info.DType.IsFloat() && info.NumElements() == n {
		sf, err := read("scaling_factor", n)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(sf, func(v float32) bool { return v != 1 }) {
			return nil, fmt.Errorf("%s: tensor \"scaling_factor\" is not all ones (a fine-tuning scaling factor); govene does not support it", WeightsFile)
		}
	}
	return s, nil
}

// Check returns an error when s's weights do not have the lengths its
// config gives (or its config is not valid); nil otherwise.
func (s *SAE) Check() error {
	if s == nil {
		return errors.New("sae: nil SAE")
	}
	if err := s.Config.Validate(); err != nil {
		return err
	}
	d, n := s.DIn, s.DSAE
	for _, w := range []struct {
		name string
		v    []float32
		want int
	}{{"W_enc", s.WEnc, d * n}, {"b_enc", s.BEnc, n}, {"W_dec", s.WDec, n * d}, {"b_dec", s.BDec, d}} {
		if len(w.v) != w.want {
			return fmt.Errorf("sae: %s has %d values; d_in %d, d_sae %d want %d", w.name, len(w.v), d, n, w.want)
		}
	}
	if s.Architecture == ArchJumpReLU && len(s.Threshold) != n {
		return fmt.Errorf("sae: Threshold has %d values; a jumprelu SAE with d_sae %d wants %d", len(s.Threshold), n, n)
	}
	if s.Scale < 0 || math.IsNaN(s.Scale) || math.IsInf(s.Scale, 0) {
		return fmt.Errorf("sae: Scale %v is not valid; want a finite factor > 0 (0 means 1)", s.Scale)
	}
	return nil
}

// scale returns the input factor (1 when unset or unused).
func (s *SAE) scale() float64 {
	if s.NormalizeActivations != NormExpectedAverage || s.Scale == 0 {
		return 1
	}
	return s.Scale
}

// Save writes s to the folder dir in SAELens' format (cfg.json and
// sae_weights.safetensors, float32), replacing dir atomically: after an
// error or a crash dir holds the old content or the new, never a mix. For
// normalize_activations "expected_average_only_in" with a Scale other
// than 1 the factor is folded into the weights, as SAELens does, and the
// file says "none". It returns an error for an SAE whose weights do not
// match its config (see Check) and the disk's errors.
func (s *SAE) Save(dir string) error {
	if err := s.Check(); err != nil {
		return err
	}
	out := *s
	out.Dtype = "float32"
	if sc := s.scale(); s.NormalizeActivations == NormExpectedAverage {
		out = *fold(s, sc)
		out.Dtype = "float32"
	}
	cfg, err := marshalConfig(out.Config)
	if err != nil {
		return fmt.Errorf("sae: save %s: %w", dir, err)
	}
	d, n := s.DIn, s.DSAE
	ts := []safetensors.Tensor{
		safetensors.F32Tensor("W_enc", []int{d, n}, out.WEnc),
		safetensors.F32Tensor("b_enc", []int{n}, out.BEnc),
		safetensors.F32Tensor("W_dec", []int{n, d}, out.WDec),
		safetensors.F32Tensor("b_dec", []int{d}, out.BDec),
	}
	if s.Architecture == ArchJumpReLU {
		ts = append(ts, safetensors.F32Tensor("threshold", []int{n}, out.Threshold))
	}
	err = atomicfs.ReplaceDir(dir, func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, CfgFile), cfg, 0o644); err != nil {
			return err
		}
		return safetensors.Write(filepath.Join(tmp, WeightsFile), ts, map[string]string{"format": "pt"})
	})
	if err != nil {
		return fmt.Errorf("sae: save %s: %w", dir, err)
	}
	return nil
}

// fold returns a copy of s with the input factor sc folded into its
// weights (W_enc·sc, W_dec/sc, b_dec/sc) and normalisation "none".
func fold(s *SAE, sc float64) *SAE {
	out := *s
	out.NormalizeActivations = NormNone
	out.Scale = 1
	out.WEnc = mulAll(s.WEnc, sc)
	out.WDec = mulAll(s.WDec, 1/sc)
	out.BDec = mulAll(s.BDec, 1/sc)
	return &out
}

func mulAll(v []float32, f float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * f)
	}
	return out
}
