package lm_test

import (
	"fmt"

	"github.com/govene/govene/lm"
)

// A batch of 10 examples on 4 devices: parts of 3, the last one padded to 3
// with copies of example 9 (its outputs dropped).
func ExampleChunks() {
	fmt.Println(lm.Chunks(10, 4))
	// Output: [[0 3] [3 6] [6 9] [9 10]]
}

// The -devices flag's values: the model's default, every device, or a
// list.
func ExampleParseDevices() {
	for _, s := range []string{"", "all", "0,2", "two"} {
		d, err := lm.ParseDevices(s)
		fmt.Println(d, err)
	}
	// Output:
	// [] <nil>
	// [-1] <nil>
	// [0 2] <nil>
	// [] devices "two": "two" is not a device number; give "all" or device numbers such as 0,1
}
