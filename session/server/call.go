package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/govene/govene/session"
)

// ServeHTTP serves one call: POST session.CallPath+method with the
// request's JSON (or framed body, session.FramedType) as the body. The
// result goes back framed when the caller accepts it
// (session.FramedType in its Accept header) and holds a session.Tensor,
// else as JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) != 1 {
			writeError(w, http.StatusUnauthorized, &session.Error{Message: "session: missing or wrong token: this session needs its token (session.Options.Token or $GOVENE_SESSION_TOKEN; govene session serve printed it and wrote it to its token file)"})
			return
		}
	}
	s.inFlight.Add(1) // a call of a token holder keeps the session alive
	s.touch()
	defer func() {
		s.touch()
		s.inFlight.Add(-1)
	}()
	method, ok := strings.CutPrefix(r.URL.Path, session.CallPath)
	if !ok || r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, &session.Error{Message: fmt.Sprintf("session: no such endpoint: %s %s (calls are POST %s<method>)", r.Method, r.URL.Path, session.CallPath)})
		return
	}
	s.mu.Lock()
	h := s.handlers[method]
	s.mu.Unlock()
	if h == nil {
		writeError(w, http.StatusNotFound, &session.Error{Message: fmt.Sprintf("session: unknown method %q; the methods are: %s", method, strings.Join(s.methods(), ", "))})
		return
	}
	s.requests.Add(1)
	body, err := readBody(http.MaxBytesReader(w, r.Body, s.opts.MaxRequestBytes), r.ContentLength, s.opts.MaxRequestBytes)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, &session.Error{Message: fmt.Sprintf("session: %s: the request is over the session's limit of %d bytes (MaxRequestBytes; govene session serve -max-request)", method, s.opts.MaxRequestBytes)})
			return
		}
		writeError(w, http.StatusBadRequest, &session.Error{Message: fmt.Sprintf("session: %s: reading the request: %v", method, err)})
		return
	}
	st := &stream{w: w, limit: s.opts.MaxResponseBytes, framed: strings.Contains(r.Header.Get("Accept"), session.FramedType)}
	result, err := s.call(r.Context(), method, h, body, st)
	st.finish(method, result, err)
}

// readBody reads a request body from r (which enforces the limit), in one
// allocation when its declared length is within the limit.
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if length < 0 || length > limit {
		return io.ReadAll(r)
	}
	var b bytes.Buffer
	b.Grow(int(length) + 1) // +1: ReadFrom sees EOF without growing
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}

// call runs h, turning a panic into an error (logged with its stack).
func (s *Server) call(ctx context.Context, method string, h Handler, body []byte, st *stream) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(s.opts.Log, "govene session: method %s panicked: %v\n%s", method, p, debug.Stack())
			result, err = nil, &session.Error{Message: fmt.Sprintf("session: method %s panicked: %v (the session keeps serving; its log has the stack)", method, p)}
		}
	}()
	return h(ctx, body, st.emit)
}

func (s *Server) touch() { s.lastUse.Store(time.Now().UnixNano()) }

// stream writes a response: plain JSON when the handler emitted nothing,
// else newline-delimited StreamLines.
type stream struct {
	mu        sync.Mutex
	w         http.ResponseWriter
	limit     int64
	framed    bool // the caller reads framed results (session.FramedType)
	streaming bool
	done      bool
}

// emit writes one event line, switching the response to a stream.
func (st *stream) emit(event any) error {
	data, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("session: encoding an event: %w", err)
	}
	if int64(len(data)) > st.limit {
		return fmt.Errorf("session: an event of %d bytes is over the limit of %d bytes (MaxResponseBytes)", len(data), st.limit)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return errors.New("session: emit after the method returned")
	}
	if !st.streaming {
		st.w.Header().Set("Content-Type", session.StreamType)
		st.w.WriteHeader(http.StatusOK)
		st.streaming = true
	}
	return st.line(session.StreamLine{Event: data}, true)
}

// line writes one stream line, and flushes it when flush is set (the last
// line goes out when ServeHTTP returns, so that a caller who has the
// result sees the call finished in the status).
func (st *stream) line(l session.StreamLine, flush bool) error {
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := st.w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("session: the caller is gone: %w", err)
	}
	if f, ok := st.w.(http.Flusher); ok && flush {
		f.Flush()
	}
	return nil
}

// finish writes the result or the error.
func (st *stream) finish(method string, result any, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.done = true
	var data []byte
	ctype := session.JSONType
	if err == nil {
		if st.framed && !st.streaming {
			data, ctype, err = session.Marshal(result)
		} else {
			data, err = json.Marshal(result)
		}
		if err != nil {
			err = fmt.Errorf("session: %s: encoding the result: %w", method, err)
		} else if int64(len(data)) > st.limit {
			err = fmt.Errorf("session: %s: the result is %d bytes, over the limit of %d bytes (MaxResponseBytes; govene session serve -max-response)", method, len(data), st.limit)
		}
	}
	var e *session.Error
	if err != nil {
		var se *session.Error
		e = &session.Error{Message: err.Error()}
		if errors.As(err, &se) {
			e.Field = se.Field
		}
	}
	if st.streaming {
		if e != nil {
			_ = st.line(session.StreamLine{Error: e}, false)
		} else {
			_ = st.line(session.StreamLine{Result: data}, false)
		}
		return
	}
	if e != nil {
		writeError(st.w, http.StatusBadRequest, e)
		return
	}
	st.w.Header().Set("Content-Type", ctype)
	st.w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = st.w.Write(data)
}

// writeError writes e as a JSON error body with status.
func writeError(w http.ResponseWriter, status int, e *session.Error) {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(e)
	w.Header().Set("Content-Type", session.JSONType)
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
