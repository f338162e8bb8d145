package session

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Status is what the built-in "status" method returns: what a session
// holds and how it is doing. Reports holds the sections that the server's
// registered reporters give (models, backend and devices, compiled
// graphs...), by name.
type Status struct {
	Protocol      int                        `json:"protocol"`
	PID           int                        `json:"pid"`
	Address       string                     `json:"address"`
	Started       time.Time                  `json:"started"`
	LastUse       time.Time                  `json:"last_use"`
	UptimeSeconds float64                    `json:"uptime_seconds"`
	IdleSeconds   float64                    `json:"idle_timeout_seconds"`
	Requests      int64                      `json:"requests"`
	InFlight      int64                      `json:"in_flight"`
	Memory        Memory                     `json:"memory"`
	Methods       []string                   `json:"methods"`
	Reports       map[string]json.RawMessage `json:"reports,omitempty"`
}

// Memory is a session's memory use, in bytes: the Go runtime's heap and
// total from the OS, and the process's resident set (VmRSS, 0 where the
// system does not say).
type Memory struct {
	GoHeapBytes uint64 `json:"go_heap_bytes"`
	GoSysBytes  uint64 `json:"go_sys_bytes"`
	RSSBytes    uint64 `json:"rss_bytes"`
}

// String formats the status for people, one item per line, reports
// sorted by name.
func (s Status) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pid %d at %s, up %s, last use %s ago", s.PID, s.Address,
		time.Duration(s.UptimeSeconds*float64(time.Second)).Round(time.Second),
		time.Since(s.LastUse).Round(time.Second))
	if s.IdleSeconds > 0 {
		fmt.Fprintf(&b, ", stops after %s idle", time.Duration(s.IdleSeconds*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintf(&b, "\n  requests: %d (%d in flight)\n  memory: rss %s, go heap %s, go sys %s\n  methods: %s\n",
		s.Requests, s.InFlight, mib(s.Memory.RSSBytes), mib(s.Memory.GoHeapBytes), mib(s.Memory.GoSysBytes), strings.Join(s.Methods, ", "))
	names := make([]string, 0, len(s.Reports))
	for n := range s.Reports {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %s: %s\n", n, s.Reports[n])
	}
	return b.String()
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
