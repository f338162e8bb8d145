// Package session is the client of govene sessions: long-lived govene
// processes that keep loaded models, compiled graphs and caches alive
// between the cells of a notebook, or serve a notebook on a laptop from a
// GPU server.
//
// # The model
//
// GoNB builds and runs a new program for every notebook cell, so a cell
// that uses govene in-process relinks GoMLX, reloads the model and
// recompiles every graph. With a session the cell is a small client: this
// package uses the standard library, govene's plain data (the root
// package) and its progress bars only (no GoMLX, no cgo; a test checks
// it), so the cell builds fast, and the work
// runs in the session, where the graphs compiled by earlier cells are
// still there. Client is a govene.Engine, like the in-process engine
// (package engine): a cell switches between them in one line, and its
// models, intervenable models and caches live in the session (package
// session/service serves them there).
//
// Connect finds the session of the current Jupyter kernel, or starts one:
// it runs `govene session serve` detached (FindBinary says which binary)
// on a Unix socket in a folder only the user can open (DefaultDir, checked
// by EnsureDir), with its log next to the socket. Each kernel has its own
// session (KernelName), and restarting the kernel gives a fresh one: the
// old session stops when its kernel's process exits, after an idle
// timeout (30 minutes by default, Options.IdleTimeout), or on
// `govene session stop`. `govene session ls` shows what the sessions hold
// (models, backend and devices, memory, compiled graphs, last use). If a
// session dies (kill -9), the next call returns an error wrapping ErrGone
// that says so, and the next Connect removes the stale socket and starts a
// new one.
//
// # What travels
//
// Requests and results are data: configs, locations, token ids, options
// and tensors as JSON. A Tensor (shape and float32 values) travels out of
// line, as raw little-endian bytes after the JSON (FramedType), so that a
// model's logits cost about a memory copy: 16 tokens of GPT-2 logits
// (3.2 MB) make a round trip in a few milliseconds where base64 in JSON
// takes 40 ms (BenchmarkCall in session/server). Go functions and channels cannot travel: a request
// that holds one fails with an error wrapping ErrNotData, which says to
// register a named intervention type in the session or use a built-in one.
// Numbers that may be NaN or infinite (losses, metrics) travel as F64,
// exactly. A config's RepresentationConfig.Intervention (a Go function)
// is refused before anything is sent (CheckData). Relative paths given to
// Save and Load are resolved against the caller's folder before they
// travel. Callbacks (tokens, training steps, progress) run in the
// caller's process as the session streams their events; Train shows its
// progress there too (Options.Progress).
// Errors come back as *Error values with the session's own text and the
// request field they are about.
//
// # Wire protocol
//
// HTTP/1.1 over the Unix socket, or over TCP with TLS and a bearer token
// for a remote session. A call is POST /v1/call/<method> with the request
// as a JSON body; the answer is the result as JSON (200) or an error
// {"message":..., "field":...} (4xx/5xx). A long call (tokens being
// generated, training progress) answers with Content-Type
// application/x-ndjson instead: one {"event":...} line per event, then a
// {"result":...} or {"error":{...}} line. A request or result that holds
// a Tensor is a framed body instead of plain JSON (FramedType says how it
// is laid out); the session sends one only to a client that accepts it,
// and stream lines are always JSON, with a Tensor's values inline. Requests are decoded strictly
// (DecodeRequest: unknown fields are errors), and both sides bound sizes
// (Options.MaxRequestBytes, MaxResponseBytes; errors name the limit).
//
// # A notebook on a laptop, a session on a GPU server
//
// With TLS and a token, on the server:
//
//	govene session serve -listen 0.0.0.0:7777
//
// prints the token (also written 0600 to a file) and the self-signed
// certificate's fingerprint, and the line to give the notebook:
//
//	GOVENE_SESSION_ADDR=gpu.example.org:7777 GOVENE_SESSION_TOKEN=<token> GOVENE_SESSION_FINGERPRINT=sha256:<hex> jupyter lab
//
// (or session.Options{Addr:, Token:, Fingerprint:} in the cell; CAFile
// instead of Fingerprint verifies the certificate file serve wrote). -listen
// binds 127.0.0.1 when the host is empty: the server is reachable from
// elsewhere only when told so. Over SSH instead, with no open port and no
// token: start a session on the server (govene session serve -name gpu),
// forward its socket, and point the notebook at the local end:
//
//	ssh -N -L /tmp/govene-gpu.sock:/run/user/1000/govene/gpu.sock gpu.example.org
//	GOVENE_SESSION_SOCKET=/tmp/govene-gpu.sock jupyter lab
//
// (or session.Options{Socket: "/tmp/govene-gpu.sock"}). Connect never
// starts a session behind an explicit socket or address.
package session
