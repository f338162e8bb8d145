package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/session"
	"github.com/govene/govene/session/server"
	"github.com/govene/govene/session/service"
)

const sessionUsage = `usage:
  govene session serve [-name N | -socket PATH] [-idle D] [-watch-pid PID] [-backend B]
  govene session serve -listen HOST:PORT [-token-file F] [-cert F -key F]
  govene session ls [-name N | -socket PATH | -addr HOST:PORT ...]
  govene session stop [-name N | -all | -socket PATH | -addr HOST:PORT ...]

A session is a long-lived govene process that keeps models and compiled
graphs between notebook cells; programs reach it with package
github.com/govene/govene/session, which starts one per Jupyter kernel.
serve serves on a Unix socket in a folder only you can open (default
%s), or with -listen on TCP with TLS and a bearer token
(loopback unless HOST says otherwise); it computes on -backend (default:
GOMLX_BACKEND, else the installed XLA CPU plugin, else pure Go). ls
shows what the sessions hold, the backend included; stop stops one (this kernel's, the only one, or -name), or all with -all.

Run "govene session serve -h" (or ls, stop) for the flags.

Environment (read by the session client in notebook cells, and by ls/stop):
  GOVENE_SESSION              the session's name (default: the Jupyter kernel's)
  GOVENE_SESSION_SOCKET       an explicit socket, such as an SSH-forwarded one
  GOVENE_SESSION_ADDR, GOVENE_SESSION_TOKEN, GOVENE_SESSION_FINGERPRINT
                              a remote session (serve -listen prints them)
  GOVENE_BIN                  the govene binary a client starts sessions with
                              (default: govene on PATH, else built once from
                              the govene module the program was built with)
`

// sessionMain runs `govene session serve|ls|stop`.
func sessionMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, sessionUsage, session.DefaultDir())
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stdout, sessionUsage, session.DefaultDir())
		return exitOK
	case "serve":
		return sessionServe(args[1:], stdout, stderr)
	case "ls":
		return sessionLs(args[1:], stdout, stderr)
	case "stop":
		return sessionStop(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "govene session: unknown command %q; the commands are: serve, ls, stop\n", args[0])
	return exitUsage
}

// clientFlags are the flags that say which session ls and stop talk to.
type clientFlags struct {
	opts session.Options
	all  bool
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.opts.Name, "name", "", "the session's name (default: this kernel's under GoNB, else every session (ls) or the only one (stop))")
	fs.StringVar(&c.opts.Dir, "dir", "", "the socket folder (default "+session.DefaultDir()+")")
	fs.StringVar(&c.opts.Socket, "socket", "", "an explicit socket path (such as an SSH-forwarded one)")
	fs.StringVar(&c.opts.Addr, "addr", "", "a remote session's HOST:PORT (default $"+session.EnvAddr+")")
	fs.StringVar(&c.opts.Token, "token", "", "the remote session's token (default $"+session.EnvToken+")")
	fs.StringVar(&c.opts.CAFile, "cafile", "", "the remote session's certificate (PEM) to verify it with")
	fs.StringVar(&c.opts.Fingerprint, "fingerprint", "", "the remote session's certificate fingerprint (sha256:...) to pin")
}

// targets returns the named sessions' clients: a remote or explicit one,
// else the local ones the flags select (by name, under GoNB this
// kernel's, else all).
func (c *clientFlags) targets() (names []string, clients []*session.Client, err error) {
	if c.opts.Addr != "" || c.opts.Socket != "" || os.Getenv(session.EnvAddr) != "" || os.Getenv(session.EnvSocket) != "" {
		cl, err := session.Dial(c.opts)
		if err != nil {
			return nil, nil, err
		}
		return []string{cl.Address()}, []*session.Client{cl}, nil
	}
	dir := c.opts.Dir
	if dir == "" {
		dir = session.DefaultDir()
	}
	if !c.all && c.opts.Name == "" && (os.Getenv("GONB_TMP_DIR") != "" || os.Getenv(session.EnvName) != "") {
		c.opts.Name, _ = session.KernelName()
	}
	if c.opts.Name != "" {
		if err := session.CheckName(c.opts.Name); err != nil {
			return nil, nil, err
		}
		names = []string{c.opts.Name}
	} else {
		socks, _ := filepath.Glob(filepath.Join(dir, "*.sock"))
		for _, s := range socks {
			names = append(names, strings.TrimSuffix(filepath.Base(s), ".sock"))
		}
		sort.Strings(names)
	}
	for _, n := range names {
		o := c.opts
		o.Socket = session.SocketPath(dir, n)
		cl, err := session.Dial(o)
		if err != nil {
			return nil, nil, err
		}
		clients = append(clients, cl)
	}
	return names, clients, nil
}

func sessionLs(args []string, stdout, stderr io.Writer) int {
	return sessionEach("ls", args, stdout, stderr, func(ctx context.Context, cl *session.Client) (string, error) {
		st, err := cl.Status(ctx)
		return st.String(), err
	})
}

func sessionStop(args []string, stdout, stderr io.Writer) int {
	return sessionEach("stop", args, stdout, stderr, func(ctx context.Context, cl *session.Client) (string, error) {
		return "stopped\n", cl.Stop(ctx)
	})
}

// sessionEach runs ls or stop: it parses the flags, picks the sessions
// and calls do on each, printing "name: " and do's text, or that the
// session is not running; stop needs -all for more than one session.
func sessionEach(cmd string, args []string, stdout, stderr io.Writer, do func(context.Context, *session.Client) (string, error)) int {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	var c clientFlags
	c.register(fs)
	if cmd == "stop" {
		fs.BoolVar(&c.all, "all", false, "stop every session of this user")
	}
	if code, ok := parseFlags(fs, args, stdout, stderr, "govene session "+fs.Name(), ""); !ok {
		return code
	}
	names, clients, err := c.targets()
	if err != nil {
		fmt.Fprintf(stderr, "govene session %s: %v\n", cmd, err)
		return exitError
	}
	if cmd == "stop" && len(names) > 1 && !c.all {
		fmt.Fprintf(stderr, "govene session stop: %d sessions run (%s): give -name or -all\n", len(names), strings.Join(names, ", "))
		return exitUsage
	}
	if len(names) == 0 {
		fmt.Fprintln(stdout, "no sessions")
		return exitOK
	}
	code := exitOK
	for i, cl := range clients {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		text, err := do(ctx, cl)
		cancel()
		switch {
		case errors.Is(err, session.ErrGone):
			stale := ""
			if _, serr := os.Lstat(cl.Address()); serr == nil {
				stale = fmt.Sprintf(" (stale socket %s; the next Connect removes it)", cl.Address())
			}
			fmt.Fprintf(stdout, "%s: not running%s\n", names[i], stale)
		case err != nil:
			fmt.Fprintf(stderr, "govene session %s: %s: %v\n", cmd, names[i], err)
			code = exitError
		default:
			fmt.Fprintf(stdout, "%s: %s", names[i], text)
		}
	}
	return code
}

type serveFlags struct {
	name, dir, socket, listen, tokenFile, cert, key string
	backend, devices                                string
	idle                                            time.Duration
	watchPID                                        int
	maxReq, maxResp                                 int64
}

func sessionServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var f serveFlags
	fs.StringVar(&f.name, "name", "", "the session's name: its socket is DIR/NAME.sock (default: as session.KernelName)")
	fs.StringVar(&f.dir, "dir", "", "the socket folder, mode 0700 (default "+session.DefaultDir()+")")
	fs.StringVar(&f.socket, "socket", "", "serve on this socket path instead (its folder must be 0700 and yours)")
	fs.StringVar(&f.listen, "listen", "", "serve on TCP HOST:PORT with TLS and a token instead (an empty HOST is 127.0.0.1)")
	fs.StringVar(&f.tokenFile, "token-file", "", "with -listen: the token's file, read when it exists, else a new random token is written there 0600 (default DIR/NAME.token)")
	fs.StringVar(&f.cert, "cert", "", "with -listen: the TLS certificate (PEM); default: a new self-signed one written to DIR/NAME-cert.pem")
	fs.StringVar(&f.key, "key", "", "with -listen and -cert: the certificate's key (PEM)")
	fs.StringVar(&f.backend, "backend", "auto", "go, xla (the installed CPU plugin), xla:cuda, xla:/abs/path/plugin.so, or auto: $"+backend.EnvVar+", else the installed XLA CPU plugin, else go")
	fs.StringVar(&f.devices, "devices", "", devicesUsage)
	fs.DurationVar(&f.idle, "idle", server.DefaultIdleTimeout, "stop after this long without a request (0 or negative: never)")
	fs.IntVar(&f.watchPID, "watch-pid", 0, "stop when this process (the notebook kernel) exits")
	fs.Int64Var(&f.maxReq, "max-request", session.DefaultMaxRequestBytes, "the largest request body, in bytes")
	fs.Int64Var(&f.maxResp, "max-response", session.DefaultMaxResponseBytes, "the largest response or streamed event, in bytes")
	if code, ok := parseFlags(fs, args, stdout, stderr, "govene session "+fs.Name(), ""); !ok {
		return code
	}
	opts, connect, err := f.options(stdout)
	if err != nil {
		fmt.Fprintln(stderr, "govene session serve:", err)
		return exitError
	}
	config, reason, err := sessionBackend(f.backend, os.Getenv(backend.EnvVar), backend.InstalledPlugin())
	if err != nil {
		fmt.Fprintln(stderr, "govene session serve:", err)
		return exitError
	}
	devices, err := lm.ParseDevices(f.devices)
	if err != nil {
		fmt.Fprintln(stderr, "govene session serve: -"+err.Error())
		return exitUsage
	}
	// Models the session loads get this backend (backend.For honours it).
	os.Setenv(backend.EnvVar, config)
	opts.Log = stderr
	if devices != nil {
		b, err := backend.Default()
		if err == nil {
			_, err = lm.ModelDevices(b, devices)
		}
		if err != nil {
			fmt.Fprintf(stderr, "govene session serve: -devices %s: %v\n", f.devices, err)
			return exitError
		}
	}
	eng, err := newEngine(devices...) // after the backend is set: its models use it
	if err != nil {
		fmt.Fprintln(stderr, "govene session serve: the engine:", err)
		return exitError
	}
	srv, err := server.New(opts)
	if err != nil {
		fmt.Fprintln(stderr, "govene session serve:", err)
		return exitError
	}
	fmt.Fprintf(stderr, "govene session: backend %s: %s\n", config, reason)
	defer eng.Close()
	if err := service.Register(srv, eng); err != nil {
		fmt.Fprintln(stderr, "govene session serve:", err)
		return exitError
	}
	srv.Report("backend", func() any {
		return map[string]string{"config": config, "reason": reason, "created": backend.Chosen()}
	})
	if connect != nil {
		connect(srv.Addr())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintln(stderr, "govene session serve:", err)
		return exitError
	}
	return exitOK
}

// options turns serve's flags into server options, making the token and
// certificate of a TCP session when not given; for TCP it also returns a
// func that prints how to connect to the address the server got.
func (f serveFlags) options(stdout io.Writer) (server.Options, func(addr string), error) {
	opts := server.Options{IdleTimeout: f.idle, WatchPID: f.watchPID, MaxRequestBytes: f.maxReq, MaxResponseBytes: f.maxResp}
	if f.idle <= 0 {
		opts.IdleTimeout = -1
	}
	if f.socket != "" && f.listen != "" {
		return opts, nil, errors.New("give -socket or -listen, not both")
	}
	name := f.name
	if name == "" {
		name, _ = session.KernelName()
	}
	if err := session.CheckName(name); err != nil {
		return opts, nil, err
	}
	dir := f.dir
	if dir == "" {
		dir = session.DefaultDir()
	}
	if f.listen == "" {
		opts.Socket = f.socket
		if opts.Socket == "" {
			if err := session.EnsureDir(dir); err != nil {
				return opts, nil, err
			}
			opts.Socket = session.SocketPath(dir, name)
		}
		return opts, nil, nil
	}
	if err := session.EnsureDir(dir); err != nil {
		return opts, nil, err
	}
	opts.Listen = f.listen
	tokenFile := f.tokenFile
	if tokenFile == "" {
		tokenFile = filepath.Join(dir, name+".token")
	}
	token, err := readOrMakeToken(tokenFile)
	if err != nil {
		return opts, nil, err
	}
	opts.Token = token
	cert, fp, certFile, err := f.certificate(dir, name)
	if err != nil {
		return opts, nil, err
	}
	opts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return opts, func(addr string) {
		fmt.Fprintf(stdout, "govene session: serving on %s with TLS\n  token: %s (in %s)\n  certificate: %s, fingerprint %s\n  connect with: %s=%s %s=%s %s=%s\n",
			addr, token, tokenFile, certFile, fp, session.EnvAddr, addr, session.EnvToken, token, session.EnvFingerprint, fp)
	}, nil
}

// readOrMakeToken reads the token in path, or writes a new one there 0600.
func readOrMakeToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		if t := strings.TrimSpace(string(data)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("-token-file %s is empty", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("-token-file: %w", err)
	}
	t, err := server.NewToken()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("-token-file: %w", err)
	}
	return t, nil
}

// certificate loads -cert/-key, or makes a self-signed certificate for
// -listen's host and writes it to DIR/NAME-cert.pem.
func (f serveFlags) certificate(dir, name string) (tls.Certificate, string, string, error) {
	if f.cert != "" || f.key != "" {
		cert, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return cert, "", "", fmt.Errorf("-cert %s -key %s: %w", f.cert, f.key, err)
		}
		return cert, session.Fingerprint(cert.Certificate[0]), f.cert, nil
	}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return tls.Certificate{}, "", "", fmt.Errorf("-listen %q is not HOST:PORT: %w", f.listen, err)
	}
	cert, pemData, err := server.SelfSigned(host)
	if err != nil {
		return cert, "", "", err
	}
	path := filepath.Join(dir, name+"-cert.pem")
	if err := os.WriteFile(path, pemData, 0o600); err != nil {
		return cert, "", "", fmt.Errorf("writing the certificate: %w", err)
	}
	return cert, session.Fingerprint(cert.Certificate[0]), path, nil
}
