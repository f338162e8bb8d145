package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govene/govene/session"
	"github.com/govene/govene/session/server"
)

// shortDir returns a private folder with a short path (socket paths are
// limited to about 100 bytes), removed after the test.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "gvs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// scaleRequest is the request of the test's "scale" method.
type scaleRequest struct {
	X     []float64 `json:"x"`
	By    float64   `json:"by"`
	Steps int       `json:"steps,omitempty"` // events to stream first
}

// register adds the test methods: scale (strict request, field errors,
// optional streaming), panic, big (a result of n bytes) and slow.
func register(t testing.TB, s *server.Server) {
	t.Helper()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Handle("scale", func(_ context.Context, req []byte, emit server.Emitter) (any, error) {
		var r scaleRequest
		if err := session.DecodeRequest(req, &r, 0); err != nil {
			return nil, err
		}
		if r.By == 0 {
			return nil, &session.Error{Field: "by", Message: "scale: by is 0: give a non-zero factor"}
		}
		for i := range r.Steps {
			if err := emit(map[string]int{"step": i}); err != nil {
				return nil, err
			}
		}
		out := make([]float64, len(r.X))
		for i, v := range r.X {
			out[i] = v * r.By
		}
		return out, nil
	}))
	must(s.Handle("panic", func(context.Context, []byte, server.Emitter) (any, error) {
		panic("a handler bug")
	}))
	must(s.Handle("big", func(_ context.Context, req []byte, _ server.Emitter) (any, error) {
		var n int
		if err := session.DecodeRequest(req, &n, 0); err != nil {
			return nil, err
		}
		return strings.Repeat("x", n), nil
	}))
	must(s.Handle("slow", func(ctx context.Context, _ []byte, _ server.Emitter) (any, error) {
		select {
		case <-time.After(300 * time.Millisecond):
			return "done", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}))
	must(s.Handle("streampanic", func(_ context.Context, _ []byte, emit server.Emitter) (any, error) {
		if err := emit(map[string]int{"step": 0}); err != nil {
			return nil, err
		}
		panic("mid-stream")
	}))
	must(s.Handle("logits", func(_ context.Context, req []byte, _ server.Emitter) (any, error) {
		var n int
		if err := session.DecodeRequest(req, &n, 0); err != nil {
			return nil, err
		}
		out := make(session.Float32s, max(n, -n))
		for i := range out {
			out[i] = float32(i%1000) * 0.001
		}
		if n < 0 { // a plain []float32: a JSON array of numbers
			return []float32(out), nil
		}
		return out, nil
	}))
	s.Report("models", func() any { return []string{"shipped"} })
	s.Report("broken", func() any { panic("no report") })
}

// serve starts a server with opts (a socket in a fresh folder when neither
// Socket nor Listen is set) and returns it with a channel that gets
// Serve's result.
func serve(t *testing.T, opts server.Options) (*server.Server, chan error) {
	t.Helper()
	if opts.Socket == "" && opts.Listen == "" {
		opts.Socket = filepath.Join(shortDir(t), "s.sock")
	}
	if opts.Log == nil {
		opts.Log = &strings.Builder{}
	}
	s, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	register(t, s)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return s, done
}

func dial(t *testing.T, opts session.Options) *session.Client {
	t.Helper()
	c, err := session.Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestCalls checks results, events, errors and limits through a client.
func TestCalls(t *testing.T) {
	s, _ := serve(t, server.Options{MaxRequestBytes: 1000, MaxResponseBytes: 2000})
	c := dial(t, session.Options{Socket: s.Addr(), MaxRequestBytes: 1 << 20})
	ctx := context.Background()
	tests := []struct {
		name   string
		method string
		req    any
		want   string // the JSON result
		events int
		err    string // part of the error text; "" for success
		field  string // the *session.Error's Field
		errIs  error
	}{
		{name: "result", method: "scale", req: scaleRequest{X: []float64{1, 2}, By: 3}, want: "[3,6]"},
		{name: "streamed", method: "scale", req: scaleRequest{X: []float64{1}, By: 2, Steps: 3}, want: "[2]", events: 3},
		{name: "ping", method: "ping", want: fmt.Sprintf(`{"pid":%d,"protocol":1}`, os.Getpid())},
		{name: "unknown field", method: "scale", req: map[string]any{"x": []int{1}, "factor": 2}, err: `request: unknown field "factor"`, field: "factor"},
		{name: "handler field error", method: "scale", req: scaleRequest{X: []float64{1}}, err: "scale: by is 0: give a non-zero factor", field: "by"},
		{name: "streamed error", method: "scale", req: map[string]any{"by": 1, "steps": 2, "x": "no"}, err: `field "x"`, field: "x"},
		{name: "unknown method", method: "forward", err: `session: unknown method "forward"; the methods are: big, logits, panic, ping, scale, slow, status, stop, streampanic`},
		{name: "bad method name", method: "../etc", err: `method name "../etc" is not valid`},
		{name: "request over the server's limit", method: "scale", req: scaleRequest{X: make([]float64, 600), By: 1}, err: "the request is over the session's limit of 1000 bytes (MaxRequestBytes; govene session serve -max-request)"},
		{name: "result over the server's limit", method: "big", req: 3000, err: "the result is 3002 bytes, over the limit of 2000 bytes (MaxResponseBytes"},
		{name: "a Go function", method: "scale", req: map[string]any{"f": func() {}}, err: "register a named intervention type in the session or use a built-in one", errIs: session.ErrNotData},
		{name: "panic while streaming", method: "streampanic", events: 1, err: "session: method streampanic panicked: mid-stream"},
		{name: "panic", method: "panic", err: "session: method panic panicked: a handler bug (the session keeps serving"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got json.RawMessage
			events := 0
			err := c.Stream(ctx, tc.method, tc.req, &got, func(ev json.RawMessage) error {
				if want := fmt.Sprintf(`{"step":%d}`, events); string(ev) != want {
					t.Errorf("event %d = %s, want %s", events, ev, want)
				}
				events++
				return nil
			})
			if tc.err == "" {
				if err != nil || string(got) != tc.want || events != tc.events {
					t.Fatalf("%s: result %s, %d events, error %v; want %s, %d events", tc.method, got, events, err, tc.want, tc.events)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || events != tc.events {
				t.Fatalf("%s: error %v after %d events, want one containing %q after %d", tc.method, err, events, tc.err, tc.events)
			}
			var e *session.Error
			if tc.field != "" && (!errors.As(err, &e) || e.Field != tc.field) {
				t.Fatalf("%s: error %#v, want a *session.Error with field %q", tc.method, err, tc.field)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Fatalf("%s: error %v does not wrap %v", tc.method, err, tc.errIs)
			}
		})
	}
	// The session still serves after the panic, and its status counts it.
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != os.Getpid() || st.Requests < int64(len(tests))-2 || st.InFlight != 0 || st.Memory.GoHeapBytes == 0 {
		t.Errorf("status after the calls: %+v", st)
	}
	if string(st.Reports["models"]) != `["shipped"]` || !strings.Contains(string(st.Reports["broken"]), "the reporter panicked: no report") {
		t.Errorf("status reports = %s", st.Reports)
	}
	if _, err := os.Stat("/proc/self/status"); err == nil && st.Memory.RSSBytes == 0 {
		t.Errorf("status: no VmRSS though /proc/self/status exists")
	}
}

// TestClientLimits checks the client's own request and response limits.
func TestClientLimits(t *testing.T) {
	s, _ := serve(t, server.Options{})
	c := dial(t, session.Options{Socket: s.Addr(), MaxRequestBytes: 100, MaxResponseBytes: 1000})
	ctx := context.Background()
	if err := c.Call(ctx, "scale", scaleRequest{X: make([]float64, 100), By: 1}, nil); err == nil || !strings.Contains(err.Error(), "over the limit of 100 bytes (Options.MaxRequestBytes)") {
		t.Errorf("oversized request: %v", err)
	}
	if err := c.Call(ctx, "big", 5000, nil); err == nil || !strings.Contains(err.Error(), "the response is over the limit of 1000 bytes (Options.MaxResponseBytes)") {
		t.Errorf("oversized response: %v", err)
	}
	if err := c.Call(ctx, "big", 500, nil); err != nil {
		t.Errorf("a response within the limit: %v", err)
	}
}

// TestConcurrentClients runs calls from several clients at once, a slow
// one among them, and checks every answer.
func TestConcurrentClients(t *testing.T) {
	s, _ := serve(t, server.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		c := dial(t, session.Options{Socket: s.Addr()})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 0 {
				var got string
				if err := c.Call(context.Background(), "slow", nil, &got); err != nil || got != "done" {
					errs <- fmt.Errorf("slow: %q, %v", got, err)
				}
			}
			for j := range 20 {
				var got []float64
				err := c.Stream(context.Background(), "scale", scaleRequest{X: []float64{float64(j)}, By: float64(i + 1), Steps: j % 3}, &got, nil)
				if err != nil || len(got) != 1 || got[0] != float64(j*(i+1)) {
					errs <- fmt.Errorf("client %d call %d: %v, %v", i, j, got, err)
				}
				if j == 10 {
					if err := c.Call(context.Background(), "panic", nil, nil); err == nil {
						errs <- errors.New("panic returned no error")
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestIdleStop checks that an idle server stops by itself, removes its
// socket, and that a call then says the session is gone; a call in flight
// keeps it alive.
func TestIdleStop(t *testing.T) {
	s, done := serve(t, server.Options{IdleTimeout: 200 * time.Millisecond})
	c := dial(t, session.Options{Socket: s.Addr()})
	var got string
	if err := c.Call(context.Background(), "slow", nil, &got); err != nil { // 300 ms > the idle timeout
		t.Fatalf("a call longer than the idle timeout: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not stop after 5 s idle")
	}
	done <- nil // for the cleanup
	if _, err := os.Lstat(s.Addr()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket is still there after the idle stop: %v", err)
	}
	if err := c.Ping(context.Background()); !errors.Is(err, session.ErrGone) || !strings.Contains(err.Error(), "session.Connect starts a new one") {
		t.Errorf("ping after the idle stop: %v", err)
	}
}

// TestStopMethod checks the built-in stop.
func TestStopMethod(t *testing.T) {
	s, done := serve(t, server.Options{})
	c := dial(t, session.Options{Socket: s.Addr()})
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		done <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not stop")
	}
	if _, err := os.Lstat(s.Addr()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after stop: %v", err)
	}
}

// TestSocketChecks checks New's refusals: a live socket, a public folder,
// bad options; and that it replaces a stale socket.
func TestSocketChecks(t *testing.T) {
	s, _ := serve(t, server.Options{})
	if _, err := server.New(server.Options{Socket: s.Addr()}); err == nil || !strings.Contains(err.Error(), "a session already serves") {
		t.Errorf("New on a live socket: %v", err)
	}
	dir := shortDir(t)
	stale := filepath.Join(dir, "stale.sock")
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := server.New(server.Options{Socket: stale}); err != nil {
		t.Errorf("New on a stale socket: %v", err)
	} else if fi, err := os.Stat(stale); err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("the new socket: %v, %v; want a socket with mode 0600", fi.Mode(), err)
	} else {
		st.Stop("test")
		_ = st.Serve(context.Background())
	}
	public := shortDir(t)
	if err := os.Chmod(public, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts server.Options
		err  string
	}{
		{"public folder", server.Options{Socket: filepath.Join(public, "s.sock")}, "has mode 0755"},
		{"neither", server.Options{}, "give exactly one of Options.Socket"},
		{"both", server.Options{Socket: "a", Listen: "b"}, "give exactly one of Options.Socket"},
		{"TCP without a token", server.Options{Listen: "127.0.0.1:0", TLS: &tls.Config{}}, "needs Options.Token and Options.TLS"},
	} {
		if _, err := server.New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: New = %v, want an error containing %q", tc.name, err, tc.err)
		}
	}
	if err := s.Handle("ping", func(context.Context, []byte, server.Emitter) (any, error) { return nil, nil }); err == nil {
		t.Error("Handle let a second ping replace the built-in")
	}
}

// TestTCPToken serves on loopback TCP with TLS and checks that a missing
// or wrong token is refused with 401 and a clear error, that a wrong
// certificate pin is refused, and that the right ones work.
func TestTCPToken(t *testing.T) {
	cert, pemData, err := server.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(caFile, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	token, err := server.NewToken()
	if err != nil || len(token) != 64 {
		t.Fatalf("NewToken = %q, %v", token, err)
	}
	s, _ := serve(t, server.Options{Listen: "127.0.0.1:0", Token: token, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("Addr = %s, want loopback", s.Addr())
	}
	fp := session.Fingerprint(cert.Certificate[0])
	tests := []struct {
		name string
		opts session.Options
		err  string
	}{
		{name: "pinned", opts: session.Options{Token: token, Fingerprint: fp}},
		{name: "CA file", opts: session.Options{Token: token, CAFile: caFile}},
		{name: "wrong token", opts: session.Options{Token: "x" + token[1:], Fingerprint: fp}, err: "session: missing or wrong token"},
		{name: "wrong pin", opts: session.Options{Token: token, Fingerprint: "sha256:" + strings.Repeat("00", 32)}, err: "not the pinned sha256:0000"},
		{name: "no verification", opts: session.Options{Token: token}, err: "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Addr = s.Addr()
			c := dial(t, tc.opts)
			err := c.Ping(context.Background())
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("ping: %v, want error %q", err, tc.err)
			}
		})
	}
	if _, err := session.Dial(session.Options{Addr: s.Addr()}); err == nil || !strings.Contains(err.Error(), "needs Options.Token") {
		t.Errorf("Dial without a token: %v", err)
	}
	// A raw request without a token gets 401.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Post("https://"+s.Addr()+session.CallPath+"ping", session.JSONType, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: HTTP %d, want 401", resp.StatusCode)
	}
}

// BenchmarkCall measures a call's round trip on the Unix socket: an empty
// one (ping); one that brings back GPT-2's logits for 16 tokens
// (16 x 50257 float32, 3.2 MB) as a JSON array of numbers, as Float32s
// (base64 in JSON) and as a Tensor (framed, out of line); a Tensor of
// that size sent and brought back (echo); and a forward-like method that
// takes 16 token ids and returns logits [1, 16, vocab] for the shipped
// model's vocabulary.
func BenchmarkCall(b *testing.B) {
	d, err := os.MkdirTemp("", "gvs")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(d)
	s, err := server.New(server.Options{Socket: filepath.Join(d, "s.sock"), Log: &strings.Builder{}})
	if err != nil {
		b.Fatal(err)
	}
	register(b, s)
	registerTensors(b, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Serve(ctx) }()
	c, err := session.Dial(session.Options{Socket: s.Addr()})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ping", func(b *testing.B) {
		for b.Loop() {
			if err := c.Ping(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, enc := range []struct {
		name string
		n    int
	}{{"JSONArray", -16 * 50257}, {"Float32s", 16 * 50257}} {
		b.Run("logits16x50257"+enc.name, func(b *testing.B) {
			var out session.Float32s
			for b.Loop() {
				if err := c.Call(ctx, "logits", enc.n, &out); err != nil || len(out) != 16*50257 {
					b.Fatal(err)
				}
			}
		})
	}
	in := session.Tensor{Shape: []int{16, 50257}, Data: make([]float32, 16*50257)}
	b.Run("echo16x50257Tensor", func(b *testing.B) {
		var out session.Tensor
		for b.Loop() {
			if err := c.Call(ctx, "echo", echoRequest{T: in, Scale: 1}, &out); err != nil || len(out.Data) != len(in.Data) {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("forward16x%dTensor", shippedVocab), func(b *testing.B) {
		tokens := map[string][]int{"tokens": make([]int, 16)}
		var out forwardResult
		for b.Loop() {
			if err := c.Call(ctx, "forward", tokens, &out); err != nil || out.Tokens != 16 {
				b.Fatal(err)
			}
		}
	})
}
