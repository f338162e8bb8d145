// Package server is the session side of govene sessions: a long-lived
// process that serves named methods over HTTP/1.1 on a Unix socket (or TCP
// with TLS and a bearer token) to the clients of package
// github.com/govene/govene/session. Methods are registered with
// Server.Handle; ping, status and stop are built in. See package session
// for the model and the wire protocol.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/govene/govene/session"
)

// DefaultIdleTimeout is how long a session waits without a request before
// it stops, when Options.IdleTimeout is 0.
const DefaultIdleTimeout = 30 * time.Minute

// Handler serves one method: req is the request's body, JSON or framed
// (decode it with session.DecodeRequest, which takes both), emit streams
// an event to the caller before the result (the response then becomes a
// stream). It returns the result, which encoding/json encodes with its
// session.Tensor values out of line (session.Marshal; inline base64 in a
// stream or for a caller that does not accept framed bodies), or an
// error: a *session.Error keeps its Field; any other error travels as its
// text.
type Handler func(ctx context.Context, req []byte, emit Emitter) (any, error)

// Emitter streams one event (any value encoding/json encodes) to the
// caller; it returns an error when the caller is gone or the event cannot
// be encoded or is over the response limit.
type Emitter func(event any) error

// Reporter returns one section of the status method's report (models,
// backend and devices, compiled graphs...); it must be safe to call
// concurrently with the handlers.
type Reporter func() any

// Options configures a Server. Exactly one of Socket and Listen is given.
type Options struct {
	// Socket is the Unix socket to serve on; its folder must be this
	// user's, mode 0700 (session.EnsureDir). A stale socket (no session
	// answering) is removed; a live one is an error.
	Socket string
	// Listen is a TCP host:port (host empty: 127.0.0.1) to serve on with
	// TLS; Token and TLS are then required.
	Listen string
	// TLS is the TCP listener's TLS configuration (see SelfSigned).
	TLS *tls.Config
	// Token is the bearer token TCP clients must send.
	Token string
	// IdleTimeout stops the server after that long without a request
	// (0: DefaultIdleTimeout; negative: never). A call in flight is not
	// idle time.
	IdleTimeout time.Duration
	// MaxRequestBytes and MaxResponseBytes bound a request's body and a
	// response (or one streamed event); 0 means session.DefaultMax*.
	MaxRequestBytes, MaxResponseBytes int64
	// WatchPID stops the server when that process exits (the Jupyter
	// kernel the session serves); 0 watches nothing.
	WatchPID int
	// Log receives one line per start, stop and panic (default: os.Stderr).
	Log io.Writer
}

// Server is a session server. Its methods are safe for concurrent use.
type Server struct {
	opts     Options
	ln       net.Listener
	addr     string
	http     *http.Server
	started  time.Time
	mu       sync.Mutex
	handlers map[string]Handler
	reports  map[string]Reporter
	lastUse  atomic.Int64 // unix nanoseconds
	inFlight atomic.Int64
	requests atomic.Int64
	stopOnce sync.Once
	stopped  chan struct{}
	reason   string
}

// New validates opts, listens, and registers the built-in methods; Serve
// then serves. Errors name the option and value at fault.
func New(opts Options) (*Server, error) {
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = session.DefaultMaxRequestBytes
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = session.DefaultMaxResponseBytes
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	s := &Server{opts: opts, started: time.Now(), handlers: map[string]Handler{}, reports: map[string]Reporter{}, stopped: make(chan struct{})}
	s.lastUse.Store(s.started.UnixNano())
	var err error
	switch {
	case (opts.Socket == "") == (opts.Listen == ""):
		return nil, fmt.Errorf("server: give exactly one of Options.Socket (%q) and Options.Listen (%q)", opts.Socket, opts.Listen)
	case opts.Socket != "":
		s.ln, err = listenUnix(opts.Socket)
		s.addr = opts.Socket
	default:
		if opts.Token == "" || opts.TLS == nil {
			return nil, fmt.Errorf("server: Options.Listen %s needs Options.Token and Options.TLS: a TCP session is served only over TLS to token holders", opts.Listen)
		}
		addr := opts.Listen
		if host, port, err := net.SplitHostPort(addr); err == nil && host == "" {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			s.addr = ln.Addr().String()
			s.ln = tls.NewListener(ln, opts.TLS)
		}
	}
	if err != nil {
		return nil, err
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: log.New(opts.Log, "govene session: ", 0)}
	s.builtins()
	return s, nil
}

// listenUnix listens on a socket in a private folder, removing a stale
// socket and refusing a live one.
func listenUnix(path string) (net.Listener, error) {
	if err := session.EnsureDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("server: a session already serves %s (govene session stop stops it)", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("server: removing the stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	return ln, nil
}

// Addr returns the socket path or the TCP host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// Handle registers h as method name; it returns an error for an invalid
// name, a nil handler or a name already registered (the built-ins
// included).
func (s *Server) Handle(name string, h Handler) error {
	if err := session.CheckMethod(name); err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("server: Handle(%q): nil handler", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.handlers[name]; ok {
		return fmt.Errorf("server: method %q is already registered", name)
	}
	s.handlers[name] = h
	return nil
}

// Report registers r as the status report's section name, replacing any
// earlier one of that name; a nil r removes it.
func (s *Server) Report(name string, r Reporter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r == nil {
		delete(s.reports, name)
		return
	}
	s.reports[name] = r
}

// methods returns the registered method names, sorted.
func (s *Server) methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.handlers))
	for n := range s.handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Serve serves until ctx ends, the stop method is called, the idle timeout
// passes or the watched process exits; then it shuts down (waiting up to
// 10 s for calls in flight), removes its socket and returns nil (or the
// listener's error).
func (s *Server) Serve(ctx context.Context) error {
	fmt.Fprintf(s.opts.Log, "govene session: pid %d serving on %s (idle timeout %s)\n", os.Getpid(), s.addr, s.opts.IdleTimeout)
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	go s.watch(ctx)
	var err error
	select {
	case <-s.stopped:
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.http.Shutdown(sctx)
	if s.opts.Socket != "" {
		_ = os.Remove(s.opts.Socket)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	fmt.Fprintf(s.opts.Log, "govene session: pid %d stopped: %s\n", os.Getpid(), s.reason)
	return err
}

// Stop makes Serve return, giving reason in the log.
func (s *Server) Stop(reason string) {
	s.stopOnce.Do(func() {
		s.reason = reason
		close(s.stopped)
	})
}

// watch stops the server on ctx's end, idleness or the watched process's
// exit.
func (s *Server) watch(ctx context.Context) {
	tick := time.Second
	if s.opts.IdleTimeout > 0 {
		tick = min(tick, max(s.opts.IdleTimeout/10, 10*time.Millisecond))
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.stopped:
			return
		case <-ctx.Done():
			s.Stop("context ended")
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, s.lastUse.Load()))
		if s.opts.IdleTimeout > 0 && s.inFlight.Load() == 0 && idle >= s.opts.IdleTimeout {
			s.Stop(fmt.Sprintf("idle for %s (idle timeout %s)", idle.Round(time.Millisecond), s.opts.IdleTimeout))
			return
		}
		if s.opts.WatchPID > 0 && syscall.Kill(s.opts.WatchPID, 0) == syscall.ESRCH {
			s.Stop(fmt.Sprintf("process %d (the kernel it served) exited", s.opts.WatchPID))
			return
		}
	}
}
