package retrain

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/safetensors"
	"github.com/govene/govene/shipped"
)

// F32ToF16 converts f to the nearest IEEE 754 binary16 bit pattern (ties to
// even), as numpy's and torch's float32 -> float16 casts do: values beyond
// the float16 range become ±Inf, tiny ones subnormals or ±0, NaN stays NaN.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 { // subnormal in float16, or zero
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - e)
		r := mant >> shift
		rem, half := mant&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // a carry into the exponent is the correct rounding (up to Inf)
	}
	return sign | uint16(r)
}

// f16Tensor converts float32 values to an F16 safetensors tensor, refusing
// values that float16 cannot hold.
func f16Tensor(name string, shape []int, data []float32) (safetensors.Tensor, error) {
	out := make([]byte, 2*len(data))
	for i, v := range data {
		if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 65504 {
			return safetensors.Tensor{}, fmt.Errorf("retrain: %s[%d] = %g does not fit float16", name, i, v)
		}
		binary.LittleEndian.PutUint16(out[2*i:], F32ToF16(v))
	}
	return safetensors.Tensor{Name: name, DType: safetensors.F16, Shape: append([]int(nil), shape...), Data: out}, nil
}

// SaveF16 writes m to dir as a complete Hugging Face GPT-2 checkpoint:
// config.json, model.safetensors with float16 weights, GPT-2's vocab.json and
// merges.txt, and generation_config.json. Files are written atomically.
func SaveF16(m *gpt2.Model, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("retrain: save %s: %w", dir, err)
	}
	var ts []safetensors.Tensor
	for i, name := range m.ParamNames() {
		p := m.Params()[i]
		data, err := tensors.CopyFlatData[float32](p)
		if err != nil {
			return fmt.Errorf("retrain: save %s: %s: %w", dir, name, err)
		}
		t, err := f16Tensor(name, p.Shape().Dimensions, data)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("retrain: save %s: %w", dir, err)
	}
	c := m.Config()
	c.ModelType = "gpt2"
	cfg := struct {
		gpt2.Config
		Architectures []string `json:"architectures"`
		TorchDType    string   `json:"torch_dtype"`
	}{c, []string{"GPT2LMHeadModel"}, "float16"}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	gen, err := json.MarshalIndent(map[string]any{"bos_token_id": c.BOSTokenID, "eos_token_id": c.EOSTokenID}, "", "  ")
	if err != nil {
		return err
	}
	vocab, merges, err := tokenizerFiles()
	if err != nil {
		return fmt.Errorf("retrain: save %s: %w", dir, err)
	}
	for name, data := range map[string][]byte{
		"config.json": append(data, '\n'), "generation_config.json": append(gen, '\n'),
		"vocab.json": vocab, "merges.txt": merges,
	} {
		if err := atomicfs.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("retrain: save %s: %w", dir, err)
		}
	}
	return nil
}

// tokenizerFiles returns GPT-2's vocab.json and merges.txt: decompressed from
// the bpe package's sources when this package is built from a source tree,
// else the copies embedded with the shipped model.
func tokenizerFiles() (vocab, merges []byte, err error) {
	if _, file, _, ok := runtime.Caller(0); ok {
		src := filepath.Join(filepath.Dir(file), "..", "..", "..", "bpe", "gpt2")
		v, err1 := gunzipFile(filepath.Join(src, "vocab.json.gz"))
		m, err2 := gunzipFile(filepath.Join(src, "merges.txt.gz"))
		if err1 == nil && err2 == nil {
			return v, m, nil
		}
	}
	if vocab, err = fs.ReadFile(shipped.Files(), "vocab.json"); err != nil {
		return nil, nil, err
	}
	if merges, err = fs.ReadFile(shipped.Files(), "merges.txt"); err != nil {
		return nil, nil, err
	}
	return vocab, merges, nil
}

func gunzipFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(zr)
}
