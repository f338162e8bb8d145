package pv

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/core/graph"
)

// registry is the one table of intervention kinds, keyed by Type, with
// pyvene's class names beside. It is the package's only mutable global
// state besides the backend choice, and safe for concurrent use.
type registry struct {
	mu       sync.RWMutex
	order    []Type // registration order: built-ins first, as Types lists them
	byType   map[Type]Intervention
	byPyvene map[string]Type
}

// kinds holds every registered kind; builtins fills it at start-up.
var kinds = newRegistry(builtins())

// builtins lists the kinds this package ships, in the order listings show
// them.
func builtins() []Intervention {
	return []Intervention{
		vanilla{}, addition{}, subtraction{}, zero{}, collect{}, noise{}, skip{},
		rotatedSpace{}, lowRankRotatedSpace{}, boundlessRotatedSpace{},
		sigmoidMaskRotatedSpace{}, sigmoidMask{}, pcaRotatedSpace{},
		autoencoder{}, jumpReLUAutoencoder{},
	}
}

// Types lists the built-in intervention types, in the order error messages
// list them (Registered lists every registered one, yours included). The
// package does not read it: changing it changes nothing.
var Types = func() []Type {
	var ts []Type
	for _, k := range builtins() {
		ts = append(ts, k.Info().Type)
	}
	return ts
}()

func newRegistry(ks []Intervention) *registry {
	r := &registry{byType: map[Type]Intervention{}, byPyvene: map[string]Type{}}
	for _, k := range ks {
		if err := r.add(k); err != nil {
			panic(err) // a built-in is wrong: caught by every test
		}
	}
	return r
}

// Register adds a kind of intervention under its Info().Type, so that
// configs (and Load) can name it, and ParseType and error messages know it.
// It returns an error, registering nothing, for a nil kind, an Info with an
// empty or malformed Type or PyveneName, an invalid Source or Temperature,
// or a Type or PyveneName already registered. It is safe for concurrent
// use; register in an init function, before building models that use the
// type.
func Register(k Intervention) error {
	if err := kinds.add(k); err != nil {
		return fmt.Errorf("pv: register: %w", err)
	}
	return nil
}

func (r *registry) add(k Intervention) error {
	if k == nil {
		return fmt.Errorf("nil Intervention")
	}
	var info Info
	if err := protect("Info", func() error { info = k.Info(); return nil }); err != nil {
		return err
	}
	if err := checkInfo(info); err != nil {
		return fmt.Errorf("type %q: %w", info.Type, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byType[info.Type]; ok {
		return fmt.Errorf("Info.Type: %q is already registered; pick another name (registered: %v)", info.Type, r.order)
	}
	if t, ok := r.byPyvene[string(info.Type)]; ok {
		return fmt.Errorf("Info.Type: %q is pyvene's name of %q; pick another name", info.Type, t)
	}
	if info.PyveneName != "" {
		if t, ok := r.byPyvene[info.PyveneName]; ok {
			return fmt.Errorf("Info.PyveneName: %q is already the pyvene name of %q", info.PyveneName, t)
		}
		if _, ok := r.byType[Type(info.PyveneName)]; ok {
			return fmt.Errorf("Info.PyveneName: %q is already a registered type", info.PyveneName)
		}
		r.byPyvene[info.PyveneName] = info.Type
	}
	r.byType[info.Type] = k
	r.order = append(r.order, info.Type)
	return nil
}

// Lookup returns the kind registered as t (govene's name, or pyvene's in
// any form ParseType reads), and false when none is.
func Lookup(t Type) (Intervention, bool) {
	kinds.mu.RLock()
	defer kinds.mu.RUnlock()
	if n, ok := kinds.normal(t); ok {
		return kinds.byType[n], true
	}
	return nil, false
}

// Registered returns every registered intervention type: the built-ins (as
// Types lists them), then the ones Register added, in order.
func Registered() []Type {
	kinds.mu.RLock()
	defer kinds.mu.RUnlock()
	return slices.Clone(kinds.order)
}

// normal maps t, given in any form ParseType reads, to the registered
// name; false when it names no type. The caller holds mu.
func (r *registry) normal(t Type) (Type, bool) {
	if _, ok := r.byType[t]; ok {
		return t, true
	}
	s := strings.TrimSuffix(strings.TrimPrefix(string(t), "<class '"), "'>")
	s = s[strings.LastIndex(s, ".")+1:]
	p, ok := r.byPyvene[s]
	return p, ok
}

// normalType maps t, given in any form ParseType reads, to govene's name;
// false when it names no registered type.
func normalType(t Type) (Type, bool) {
	kinds.mu.RLock()
	defer kinds.mu.RUnlock()
	return kinds.normal(t)
}

// ParseType returns the intervention type named s: govene's name
// ("vanilla", "low_rank_rotated_space", ..., or a registered one) or
// pyvene's class name ("VanillaIntervention",
// "LowRankRotatedSpaceIntervention", ...), also as pyvene writes it in a
// saved config ("pyvene.models.interventions.X" or
// "<class 'pyvene.models.interventions.X'>"). Unknown names are an error
// listing the valid ones.
func ParseType(s string) (Type, error) {
	kinds.mu.RLock()
	defer kinds.mu.RUnlock()
	if t, ok := kinds.normal(Type(s)); ok {
		return t, nil
	}
	pyvene := make([]string, 0, len(kinds.byPyvene))
	for k := range kinds.byPyvene {
		pyvene = append(pyvene, k)
	}
	slices.Sort(pyvene)
	return "", fmt.Errorf("pv: intervention type %q is not valid; valid: %v or pyvene's %v", s, kinds.order, pyvene)
}

// Trainable reports whether interventions of type t have weights that
// training updates; false for types not registered.
func Trainable(t Type) bool {
	k, ok := Lookup(t)
	return ok && k.Info().Trainable
}

// kindOf returns the kind of representation r: its Go function, or its
// registered type; false when the type is not registered.
func kindOf(r RepresentationConfig) (Intervention, bool) {
	if r.Intervention != nil {
		f, ok := interventionFunc(r.Intervention)
		return funcKind{f: f}, ok
	}
	return Lookup(r.InterventionType)
}

// interventionFunc returns RepresentationConfig.Intervention as a Func: it
// accepts a Func and a plain func(base, source *graph.Node) *graph.Node;
// false for nil functions and values of any other type.
func interventionFunc(v any) (Func, bool) {
	switch f := v.(type) {
	case Func:
		return f, f != nil
	case func(base, source *graph.Node) *graph.Node:
		return f, f != nil
	}
	return nil, false
}
