// Package checkpoint holds what loading and saving a Hugging Face
// safetensors checkpoint share across model packages (gpt2, causal):
// matching a checkpoint's tensors against the weights a config needs, and
// writing the weights and config.json back.
package checkpoint

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/govene/govene/safetensors"
)

// Tensor is a weight a checkpoint must hold: its Hugging Face name and
// shape.
type Tensor struct {
	Name  string
	Shape []int
}

// Stored is where a checkpoint holds a wanted tensor: the file and the
// tensor's name in it.
type Stored struct {
	File *safetensors.File
	Name string
}

// Match says which tensors a checkpoint must hold, how its names map to
// them and how errors describe the config.
type Match struct {
	// Want lists the tensors the config needs.
	Want []Tensor
	// Rename maps a stored name to the name of the wanted tensor it stands
	// for (a prefix dropped or added), or returns it unchanged; wanted
	// reports whether a name is in Want.
	Rename func(stored string, wanted func(name string) bool) string
	// Skip reports whether a tensor that is not wanted (by its renamed
	// name) may be left unread, such as buffers older transformers
	// versions saved.
	Skip func(name string) bool
	// For, Hint and Config describe the config in errors: "missing N
	// tensors for <For>", "N unexpected tensors (<Hint>)" and "has shape
	// ..., but config.json (<Config>) needs ...".
	For, Hint, Config string
}

// Locate finds each wanted tensor in files (read in the order given) and
// checks that no tensor is stored twice, none is missing, every other
// tensor may be skipped, and each has its wanted shape and a float dtype.
// It returns the wanted tensors by name, or an error listing what is wrong
// (missing and unexpected tensors first, then at most six tensors of the
// wrong shape or dtype).
func (m Match) Locate(files []*safetensors.File) (map[string]Stored, error) {
	want := make(map[string]bool, len(m.Want))
	for _, t := range m.Want {
		want[t.Name] = true
	}
	wanted := func(name string) bool { return want[name] }
	where := map[string]Stored{}
	var extra []string
	for _, f := range files {
		for _, n := range f.Names() {
			name := m.Rename(n, wanted)
			switch {
			case want[name]:
				if prev, dup := where[name]; dup {
					return nil, fmt.Errorf("tensor %q is stored twice, as %q and %q", name, prev.Name, n)
				}
				where[name] = Stored{File: f, Name: n}
			case m.Skip(name):
			default:
				extra = append(extra, n)
			}
		}
	}
	var missing []string
	for _, t := range m.Want {
		if _, ok := where[t.Name]; !ok {
			missing = append(missing, t.Name)
		}
	}
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("missing %d tensors for %s: %s", len(missing), m.For, abbreviate(missing)))
	}
	if len(extra) > 0 {
		errs = append(errs, fmt.Errorf("%d unexpected tensors (%s): %s", len(extra), m.Hint, abbreviate(extra)))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, t := range m.Want {
		loc := where[t.Name]
		info, _ := loc.File.Info(loc.Name)
		if !slices.Equal(info.Shape, t.Shape) {
			errs = append(errs, fmt.Errorf("tensor %q has shape %v, but config.json (%s) needs %v", loc.Name, info.Shape, m.Config, t.Shape))
		} else if !info.DType.IsFloat() {
			errs = append(errs, fmt.Errorf("tensor %q has dtype %s; valid: F32, F16, BF16 or F64", loc.Name, info.DType))
		}
		if len(errs) >= 6 {
			errs = append(errs, errors.New("(further tensors not checked)"))
			break
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return where, nil
}

// abbreviate lists names, the first six and a count of the rest.
func abbreviate(names []string) string {
	if len(names) > 6 {
		return strings.Join(names[:6], ", ") + fmt.Sprintf(", ... (%d more)", len(names)-6)
	}
	return strings.Join(names, ", ")
}
