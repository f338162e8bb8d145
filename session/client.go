package session

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"syscall"
	"time"
)

// ErrGone is wrapped by the error of a call to a session that is not
// running any more (it was killed, crashed, stopped or timed out idle):
// errors.Is(err, ErrGone). Connect starts a new one.
var ErrGone = errors.New("the session is not running")

// ErrNotData is wrapped by the error of a call whose request holds a Go
// function or channel, which cannot travel to a session.
var ErrNotData = errors.New("a Go function cannot travel to a session: register a named intervention type in the session or use a built-in one")

// Client calls the methods of one session. It is safe for concurrent use.
type Client struct {
	http     *http.Client
	base     string // "http://govene-session" or "https://host:port"
	address  string // what error messages name: the socket or host:port
	token    string
	maxReq   int64
	maxResp  int64
	newStart bool
	progress io.Writer // where Train shows its progress
}

// Address returns the socket path or host:port of the session.
func (c *Client) Address() string { return c.address }

// Started says whether Connect started this session (rather than finding
// it running).
func (c *Client) Started() bool { return c.newStart }

// Close releases the client's idle connections; the session keeps running.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// Dial returns a client of the session at opts.Socket or opts.Addr (or
// their environment variables) without starting one and without checking
// that it answers. Most programs call Connect instead.
func Dial(opts Options) (*Client, error) {
	opts = opts.withEnv()
	c := &Client{token: opts.Token, maxReq: opts.MaxRequestBytes, maxResp: opts.MaxResponseBytes, progress: opts.Progress}
	if c.progress == nil {
		c.progress = os.Stderr
	}
	if c.maxReq <= 0 {
		c.maxReq = DefaultMaxRequestBytes
	}
	if c.maxResp <= 0 {
		c.maxResp = DefaultMaxResponseBytes
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	switch {
	case opts.Addr != "":
		if opts.Token == "" {
			return nil, fmt.Errorf("session: Options.Addr %s needs Options.Token (or $%s): a TCP session refuses calls without its token", opts.Addr, EnvToken)
		}
		cfg, err := opts.tlsConfig()
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = cfg
		c.base, c.address = "https://"+opts.Addr, opts.Addr
	case opts.Socket != "":
		sock := opts.Socket
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		c.base, c.address = "http://govene-session", sock
	default:
		return nil, errors.New("session: Dial needs Options.Socket or Options.Addr (Connect finds or starts this kernel's session)")
	}
	c.http = &http.Client{Transport: tr}
	return c, nil
}

// tlsConfig returns the client's TLS settings: the certificate pinned by
// its SHA-256 fingerprint, or verified against CAFile, or against the
// system's roots when neither is given.
func (o Options) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("session: Options.CAFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("session: Options.CAFile %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
		if host, _, err := net.SplitHostPort(o.Addr); err == nil {
			cfg.ServerName = host
		}
	}
	if o.Fingerprint != "" {
		want, err := ParseFingerprint(o.Fingerprint)
		if err != nil {
			return nil, err
		}
		cfg.InsecureSkipVerify = true // replaced by the pin below
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("session: the server sent no certificate")
			}
			got := sha256.Sum256(raw[0])
			if !bytes.Equal(got[:], want) {
				return fmt.Errorf("session: the server's certificate has fingerprint sha256:%x, not the pinned %s (Options.Fingerprint)", got, o.Fingerprint)
			}
			return nil
		}
	}
	return cfg, nil
}

// ParseFingerprint parses a SHA-256 certificate fingerprint given as hex,
// with or without a "sha256:" prefix and ':' separators; it returns an
// error naming the value when it is not 32 bytes of hex.
func ParseFingerprint(s string) ([]byte, error) {
	h := strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(s), "sha256:"), ":", "")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("session: fingerprint %q is not a SHA-256 fingerprint (64 hex digits, as govene session serve prints it)", s)
	}
	return b, nil
}

// Fingerprint returns the "sha256:<hex>" fingerprint of a DER certificate.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Call calls method with req (any value encoding/json encodes; nil sends
// no body) and decodes its result into resp (a pointer, or nil to drop
// it). The Tensors in req and in the result travel out of line (see
// FramedType); a json.RawMessage resp gets the JSON part only. Events of a streaming method are dropped (Stream receives them).
// Errors: a request that holds a Go function wraps ErrNotData; one over
// Options.MaxRequestBytes names the limit; a session that is not running
// wraps ErrGone; the server's errors come back as *Error with its text.
func (c *Client) Call(ctx context.Context, method string, req, resp any) error {
	return c.Stream(ctx, method, req, resp, nil)
}

// Stream calls method like Call, passing each event the server streams
// before the result to onEvent (nil drops them); an error from onEvent
// ends the call with that error.
func (c *Client) Stream(ctx context.Context, method string, req, resp any, onEvent func(json.RawMessage) error) error {
	if err := CheckMethod(method); err != nil {
		return err
	}
	var body []byte
	ctype := JSONType
	if req != nil {
		var err error
		if body, ctype, err = Marshal(req); err != nil {
			var ute *json.UnsupportedTypeError
			if errors.As(err, &ute) && (ute.Type.Kind() == reflect.Func || ute.Type.Kind() == reflect.Chan) {
				return fmt.Errorf("session: %s: the request holds a %s: %w", method, ute.Type, ErrNotData)
			}
			return fmt.Errorf("session: %s: encoding the request: %w", method, err)
		}
	}
	if int64(len(body)) > c.maxReq {
		return fmt.Errorf("session: %s: the request is %d bytes, over the limit of %d bytes (Options.MaxRequestBytes)", method, len(body), c.maxReq)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+CallPath+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("session: %s: %w", method, err)
	}
	hreq.Header.Set("Content-Type", ctype)
	hreq.Header.Set("Accept", FramedType+", "+JSONType+", "+StreamType)
	if c.token != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.token)
	}
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return c.transportError(method, err)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode == http.StatusOK && strings.HasPrefix(hresp.Header.Get("Content-Type"), StreamType) {
		return c.readStream(method, hresp.Body, resp, onEvent)
	}
	if hresp.ContentLength > c.maxResp {
		return fmt.Errorf("session: %s: the response is over the limit of %d bytes (Options.MaxResponseBytes): it is %d bytes", method, c.maxResp, hresp.ContentLength)
	}
	data, err := readBody(hresp.Body, hresp.ContentLength, c.maxResp)
	if err != nil {
		return c.transportError(method, err)
	}
	if int64(len(data)) > c.maxResp {
		return fmt.Errorf("session: %s: the response is over the limit of %d bytes (Options.MaxResponseBytes)", method, c.maxResp)
	}
	if hresp.StatusCode != http.StatusOK {
		return serverError(method, hresp.StatusCode, data)
	}
	return decodeResult(method, data, resp)
}

// readStream reads a streaming response's lines, each within the
// response limit.
func (c *Client) readStream(method string, r io.Reader, resp any, onEvent func(json.RawMessage) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), int(min(c.maxResp, 1<<31-1))+1)
	for sc.Scan() {
		var line StreamLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return fmt.Errorf("session: %s: malformed stream line: %w", method, err)
		}
		switch {
		case line.Error != nil:
			return line.Error
		case line.Result != nil:
			return decodeResult(method, line.Result, resp)
		case onEvent != nil:
			if err := onEvent(line.Event); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("session: %s: a streamed line is over the limit of %d bytes (Options.MaxResponseBytes)", method, c.maxResp)
		}
		return c.transportError(method, err)
	}
	return c.transportError(method, io.ErrUnexpectedEOF)
}

// readBody reads a response body of at most limit+1 bytes, in one
// allocation when its length is known (and within the limit).
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if length < 0 {
		return io.ReadAll(io.LimitReader(r, limit+1))
	}
	data := make([]byte, length)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, err
	}
	return data, nil
}

func decodeResult(method string, data []byte, resp any) error {
	if resp == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := Unmarshal(data, resp); err != nil {
		return fmt.Errorf("session: %s: decoding the result into %T: %w", method, resp, err)
	}
	return nil
}

// serverError returns the *Error in an error response's body, or an
// error naming the HTTP status when the body is not one.
func serverError(method string, status int, data []byte) error {
	var e Error
	if err := json.Unmarshal(data, &e); err == nil && e.Message != "" {
		return &e
	}
	return fmt.Errorf("session: %s: HTTP %d: %s", method, status, bytes.TrimSpace(data[:min(len(data), 512)]))
}

// transportError explains a failure to reach the session or to read its
// answer: a session that is gone wraps ErrGone.
func (c *Client) transportError(method string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("session: %s: %w", method, err)
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("session %s: %s: %w (it died, was stopped or stopped idle; session.Connect starts a new one): %v", c.address, method, ErrGone, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("session %s: %s: %w: it died during the call (see its log; session.Connect starts a new one): %v", c.address, method, ErrGone, err)
	}
	return fmt.Errorf("session %s: %s: %w", c.address, method, err)
}

// Ping checks that the session answers and speaks this client's protocol
// version; an error says which it speaks otherwise.
func (c *Client) Ping(ctx context.Context) error {
	var p struct {
		Protocol int `json:"protocol"`
	}
	if err := c.Call(ctx, "ping", nil, &p); err != nil {
		return err
	}
	if p.Protocol != ProtocolVersion {
		return fmt.Errorf("session %s speaks protocol %d, this client %d: stop it (govene session stop) or update govene on one side", c.address, p.Protocol, ProtocolVersion)
	}
	return nil
}

// Status returns what the session holds ("govene session ls").
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.Call(ctx, "status", nil, &s)
	return s, err
}

// Stop asks the session to stop; it answers, then shuts down cleanly and
// removes its socket.
func (c *Client) Stop(ctx context.Context) error { return c.Call(ctx, "stop", nil, nil) }
