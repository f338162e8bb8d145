package service

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/govene/govene"
	"github.com/govene/govene/session"
)

// handles maps the IDs clients hold to the engine's values: models by
// name, intervenable models and caches by fresh random IDs. It is safe
// for concurrent use; the engine is never called while its lock is held.
type handles struct {
	mu     sync.Mutex
	models map[string]*modelEntry
	ivs    map[string]*entry[govene.Intervenable]
	caches map[string]*entry[govene.Cache]
	// released remembers recently released IDs (at most maxReleased), so
	// that using one says it was released.
	released map[string]bool
}

// maxReleased bounds the released IDs remembered.
const maxReleased = 4096

// markReleased remembers id as released (h.mu held).
func (h *handles) markReleased(id string) {
	if len(h.released) >= maxReleased {
		clear(h.released)
	}
	h.released[id] = true
}

type modelEntry struct {
	m    govene.Model
	last time.Time
}

func newHandles() *handles {
	return &handles{models: map[string]*modelEntry{}, ivs: map[string]*entry[govene.Intervenable]{}, caches: map[string]*entry[govene.Cache]{}, released: map[string]bool{}}
}

// newID returns a fresh random ID with prefix.
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return prefix + hex.EncodeToString(b[:])
}

// unknown is the error for an ID the session does not hold, naming the
// field, the kind of handle and the ID.
func unknown(field, kind, id string, released bool) error {
	why := "never made in this session (a handle of another session?)"
	if released {
		why = "released"
	}
	return &session.Error{Field: field, Message: fmt.Sprintf("service: %s: unknown %s ID %q: %s", field, kind, id, why)}
}

// addModel records m under id (replacing nothing: a model loaded twice is
// the same model).
func (h *handles) addModel(id string, m govene.Model) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.models[id]; ok {
		e.last = time.Now()
		return
	}
	h.models[id] = &modelEntry{m: m, last: time.Now()}
}

// model returns the model id names, or an error naming field and id.
func (h *handles) model(field, id string) (govene.Model, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.models[id]
	if !ok {
		names := make([]string, 0, len(h.models))
		for n := range h.models {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, &session.Error{Field: field, Message: fmt.Sprintf("service: %s: unknown model ID %q; the session holds %q (the model method loads one)", field, id, names)}
	}
	e.last = time.Now()
	return e.m, nil
}

// entry is a held intervenable model or cache: the engine's value, the
// model it belongs to, and its last use.
type entry[T any] struct {
	v     T
	model string
	last  time.Time
}

// add records v of model under a fresh ID with prefix.
func add[T any](h *handles, table map[string]*entry[T], prefix, model string, v T) string {
	id := newID(prefix)
	h.mu.Lock()
	defer h.mu.Unlock()
	table[id] = &entry[T]{v: v, model: model, last: time.Now()}
	return id
}

// get returns the value id names in table (del: and removes it), or an
// error naming field, the kind of handle and id.
func get[T any](h *handles, table map[string]*entry[T], field, kind, id string, del bool) (T, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := table[id]
	if !ok {
		var zero T
		return zero, unknown(field, kind, id, h.released[id])
	}
	e.last = time.Now()
	if del {
		delete(table, id)
		h.markReleased(id)
	}
	return e.v, nil
}

// addIV records iv of model, returning its new ID.
func (h *handles) addIV(model string, iv govene.Intervenable) string {
	return add(h, h.ivs, "iv-", model, iv)
}

// iv returns the intervenable model id names; del also removes it.
func (h *handles) iv(field, id string, del bool) (govene.Intervenable, error) {
	return get(h, h.ivs, field, "intervenable model", id, del)
}

// addCache records c of model, returning its new ID.
func (h *handles) addCache(model string, c govene.Cache) string {
	return add(h, h.caches, "cache-", model, c)
}

// cache returns the cache id names; del also removes it.
func (h *handles) cache(field, id string, del bool) (govene.Cache, error) {
	return get(h, h.caches, field, "cache", id, del)
}
