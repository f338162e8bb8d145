package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// ProtocolVersion is the version of the wire protocol; a client refuses a
// session that reports another one.
const ProtocolVersion = 1

// Paths and media types of the wire protocol.
const (
	// CallPath prefixes every method's URL: POST CallPath+method.
	CallPath = "/v1/call/"
	// StreamType is the Content-Type of a streaming response: one JSON
	// object per line, {"event":...} zero or more times, then
	// {"result":...} or {"error":{...}}.
	StreamType = "application/x-ndjson"
	// JSONType is the Content-Type of a plain response and of requests.
	JSONType = "application/json"
)

// Default size limits of requests and responses, in bytes.
const (
	DefaultMaxRequestBytes  = 64 << 20
	DefaultMaxResponseBytes = 256 << 20
)

// Error is an error that crossed the wire: Message is the server's text,
// Field the request field it is about (empty when none). Clients get it
// back as a Go error whose Error() is exactly Message.
type Error struct {
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Error returns the server's message.
func (e *Error) Error() string { return e.Message }

// StreamLine is one line of a streaming response: exactly one of Event,
// Result and Error is set.
type StreamLine struct {
	Event  json.RawMessage `json:"event,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

var methodRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// CheckMethod returns nil when name can name a method: a letter, then up
// to 63 letters, digits, '_', '.' or '-'; otherwise an error naming it.
func CheckMethod(name string) error {
	if !methodRE.MatchString(name) {
		return fmt.Errorf("session: method name %q is not valid: it must start with a letter and have at most 64 letters, digits, '_', '.' or '-'", name)
	}
	return nil
}

// DecodeRequest decodes one JSON value from data into v strictly: fields
// v does not have, trailing data and a body over limit bytes (limit <= 0:
// DefaultMaxRequestBytes) are errors. data may also be a framed body
// (FramedType): its Tensors then get their blobs, each checked against
// its tensor's shape, and a blob no tensor takes is an error too. An
// empty or all-space body decodes as null (v is left as it is). Errors
// are *Error values whose Field names the offending request field when
// there is one.
func DecodeRequest(data []byte, v any, limit int64) error {
	if limit <= 0 {
		limit = DefaultMaxRequestBytes
	}
	if int64(len(data)) > limit {
		return &Error{Message: fmt.Sprintf("request: %d bytes is over the limit of %d bytes (MaxRequestBytes)", len(data), limit)}
	}
	data, blobs, err := splitFrame(data)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if len(blobs) > 0 {
			return &Error{Message: fmt.Sprintf("request: a framed body with %d blobs and no JSON", len(blobs))}
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return requestError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Message: "request: unexpected data after the JSON value (send exactly one JSON value)"}
	}
	return attachBlobs(v, blobs, true)
}

// requestError turns a json decoding error into an *Error that names the
// field when the decoder says which.
func requestError(err error) *Error {
	var typeErr *json.UnmarshalTypeError
	var synErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return &Error{Field: typeErr.Field, Message: fmt.Sprintf("request: field %q: JSON %s cannot be a Go %s", typeErr.Field, typeErr.Value, typeErr.Type)}
	case errors.As(err, &synErr):
		return &Error{Message: fmt.Sprintf("request: malformed JSON at byte %d: %v", synErr.Offset, err)}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name := strings.Trim(f, `"`)
		return &Error{Field: name, Message: fmt.Sprintf("request: unknown field %q (the method does not take it)", name)}
	}
	return &Error{Message: "request: " + strings.TrimPrefix(msg, "json: ")}
}
