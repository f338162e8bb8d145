package hub_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/govene/govene/hub"
)

// Resolve returns a local folder in Hugging Face layout as it is, without
// touching the cache or the network. A Hub id such as "gpt2" would instead be
// looked up in the cache and, unless offline, downloaded.
func ExampleResolve() {
	dir, err := os.MkdirTemp("", "gpt2-local")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": "gpt2"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "model.safetensors"), nil, 0o644)

	got, err := hub.Resolve(dir, hub.Options{Offline: true})
	fmt.Println(got == dir, err)

	_, err = hub.Resolve(filepath.Join(dir, "missing"), hub.Options{Offline: true})
	fmt.Println(err != nil)
	// Output:
	// true <nil>
	// true
}
