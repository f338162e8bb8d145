package service

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/govene/govene"
	"github.com/govene/govene/session"
)

// Report is the status report's "engine" section: what the session holds.
type Report struct {
	Models        []ModelReport        `json:"models"`
	Intervenables []IntervenableReport `json:"intervenables"`
	Caches        []CacheReport        `json:"caches"`
	// Compiles is the engine's count of compiled graphs, when it counts
	// them (it implements Compiler); -1 otherwise.
	Compiles int64 `json:"compiles"`
}

// ModelReport is one model: its ID, what it is (family, size, source,
// backend), its sizes and when it was last used.
type ModelReport struct {
	ID       string      `json:"id"`
	Describe string      `json:"describe"`
	Dims     govene.Dims `json:"dims"`
	LastUse  time.Time   `json:"last_use"`
}

// IntervenableReport is one intervenable model: its ID, model, keys, a
// summary of its config (mode and types) and when it was last used.
type IntervenableReport struct {
	ID      string    `json:"id"`
	Model   string    `json:"model"`
	Keys    []string  `json:"keys"`
	Config  string    `json:"config"`
	LastUse time.Time `json:"last_use"`
}

// CacheReport is one cache: its ID, model and last use.
type CacheReport struct {
	ID      string    `json:"id"`
	Model   string    `json:"model"`
	LastUse time.Time `json:"last_use"`
}

// Report returns what the session holds, sorted by ID. It calls the
// engine's cheap accessors (Describe, Dims, Keys, Config, Compiles)
// outside the table's lock.
func (s *Service) Report() Report {
	s.h.mu.Lock()
	models := make(map[string]modelEntry, len(s.h.models))
	for id, e := range s.h.models {
		models[id] = *e
	}
	ivs := make(map[string]entry[govene.Intervenable], len(s.h.ivs))
	for id, e := range s.h.ivs {
		ivs[id] = *e
	}
	r := Report{Compiles: -1, Models: []ModelReport{}, Intervenables: []IntervenableReport{}, Caches: []CacheReport{}}
	for id, e := range s.h.caches {
		r.Caches = append(r.Caches, CacheReport{ID: id, Model: e.model, LastUse: e.last})
	}
	s.h.mu.Unlock()
	for id, e := range models {
		r.Models = append(r.Models, ModelReport{ID: id, Describe: e.m.Describe(), Dims: e.m.Dims(), LastUse: e.last})
	}
	for id, e := range ivs {
		r.Intervenables = append(r.Intervenables, IntervenableReport{ID: id, Model: e.model, Keys: e.v.Keys(), Config: summary(e.v.Config()), LastUse: e.last})
	}
	if c, ok := s.eng.(Compiler); ok {
		r.Compiles = c.Compiles()
	}
	sort.Slice(r.Models, func(i, j int) bool { return r.Models[i].ID < r.Models[j].ID })
	sort.Slice(r.Intervenables, func(i, j int) bool { return r.Intervenables[i].ID < r.Intervenables[j].ID })
	sort.Slice(r.Caches, func(i, j int) bool { return r.Caches[i].ID < r.Caches[j].ID })
	return r
}

// summary describes a config in one line: mode, then each
// representation's type at its layer and component.
func summary(c govene.Config) string {
	mode := c.Mode
	if mode == "" {
		mode = govene.Parallel
	}
	parts := make([]string, len(c.Representations))
	for i, r := range c.Representations {
		t := string(r.InterventionType)
		if t == "" {
			t = "?"
		}
		parts[i] = t + "@" + govene.Site{Layer: r.Layer, Component: r.Component}.String()
	}
	return string(mode) + ": " + strings.Join(parts, ", ")
}

// ReportOf returns the "engine" section of a session's status (what
// Client.Status returns); an error when the session serves no engine or
// the section does not decode.
func ReportOf(st session.Status) (Report, error) {
	var r Report
	raw, ok := st.Reports["engine"]
	if !ok {
		return r, fmt.Errorf("service: the session at %s serves no engine (its status has no engine report)", st.Address)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("service: the session's engine report: %w", err)
	}
	return r, nil
}
