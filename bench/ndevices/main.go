// Command ndevices prints how many devices the backend that GOMLX_BACKEND
// names has (bench/scale.sh records it with its figures).
package main

import (
	"fmt"
	"os"

	"github.com/govene/govene/backend"
)

func main() {
	backend.SetReport(nil)
	b, err := backend.For(backend.Workload{Backend: os.Getenv(backend.EnvVar)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ndevices:", err)
		os.Exit(1)
	}
	fmt.Println(b.NumDevices())
}
