package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/govene/govene/internal/procstatus"
	"github.com/govene/govene/session"
)

// builtins registers ping, status and stop.
func (s *Server) builtins() {
	s.handlers["ping"] = func(context.Context, []byte, Emitter) (any, error) {
		return map[string]int{"protocol": session.ProtocolVersion, "pid": os.Getpid()}, nil
	}
	s.handlers["status"] = func(context.Context, []byte, Emitter) (any, error) { return s.status(), nil }
	s.handlers["stop"] = func(context.Context, []byte, Emitter) (any, error) {
		// Stop after this call's response: Serve's shutdown waits for it.
		go s.Stop("stop requested")
		return map[string]string{"stopped": s.addr}, nil
	}
}

// status builds the status method's report. A reporter that panics or
// whose section does not encode gives an error text in its place.
func (s *Server) status() session.Status {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := session.Status{
		Protocol:      session.ProtocolVersion,
		PID:           os.Getpid(),
		Address:       s.addr,
		Started:       s.started,
		LastUse:       time.Unix(0, s.lastUse.Load()),
		UptimeSeconds: time.Since(s.started).Seconds(),
		IdleSeconds:   max(0, s.opts.IdleTimeout.Seconds()),
		Requests:      s.requests.Load(),
		InFlight:      s.inFlight.Load() - 1, // not counting this call
		Memory:        session.Memory{GoHeapBytes: ms.HeapAlloc, GoSysBytes: ms.Sys, RSSBytes: procstatus.Bytes("VmRSS")},
		Methods:       s.methods(),
		Reports:       map[string]json.RawMessage{},
	}
	s.mu.Lock()
	reports := make(map[string]Reporter, len(s.reports))
	for n, r := range s.reports {
		reports[n] = r
	}
	s.mu.Unlock()
	for n, r := range reports {
		st.Reports[n] = report(r)
	}
	return st
}

// report runs one reporter, returning its JSON or an error text.
func report(r Reporter) (out json.RawMessage) {
	defer func() {
		if p := recover(); p != nil {
			out, _ = json.Marshal(fmt.Sprintf("error: the reporter panicked: %v", p))
		}
	}()
	data, err := json.Marshal(r())
	if err != nil {
		data, _ = json.Marshal("error: " + err.Error())
	}
	return data
}
