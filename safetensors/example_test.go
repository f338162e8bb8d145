package safetensors_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/govene/govene/safetensors"
)

func ExampleWrite() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	err = safetensors.Write(path, []safetensors.Tensor{
		safetensors.F32Tensor("layer.weight", []int{2, 2}, []float32{1, 2, 3, 4}),
		safetensors.I64Tensor("layer.index", []int{3}, []int64{7, 8, 9}),
		// F16 bit patterns for 1, 65504 (the largest half) and +Inf.
		{Name: "layer.half", DType: safetensors.F16, Shape: []int{3}, Data: []byte{0x00, 0x3c, 0xff, 0x7b, 0x00, 0x7c}},
	}, map[string]string{"format": "pt"})
	if err != nil {
		log.Fatal(err)
	}

	f, err := safetensors.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fmt.Println(f.Names(), f.Metadata())
	w, shape, err := f.Float32("layer.weight")
	fmt.Println(w, shape, err)
	h, shape, err := f.Float32("layer.half")
	fmt.Println(h, shape, err)
	idx, shape, err := f.Int64("layer.index")
	fmt.Println(idx, shape, err)
	_, _, err = f.Float32("layer.index")
	fmt.Println(err != nil)
	// Output:
	// [layer.half layer.index layer.weight] map[format:pt]
	// [1 2 3 4] [2 2] <nil>
	// [1 65504 +Inf] [3] <nil>
	// [7 8 9] [3] <nil>
	// true
}
