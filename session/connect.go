package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options says which session to use and how to reach it. The zero value
// means this Jupyter kernel's local session (see KernelName), started when
// it is not running.
type Options struct {
	// Name names a local session (default: $GOVENE_SESSION, else the
	// kernel's, see KernelName). Its socket is Dir/Name.sock.
	Name string
	// Dir is the folder of the local sockets (default: DefaultDir()); it
	// must be this user's, mode 0700 (see EnsureDir).
	Dir string
	// Socket is an explicit socket path (default: $GOVENE_SESSION_SOCKET),
	// such as the local end of `ssh -L /local.sock:/remote.sock`. Connect
	// does not start a session behind an explicit socket.
	Socket string
	// Addr is the host:port of a remote session served over TLS
	// (`govene session serve -listen`); default $GOVENE_SESSION_ADDR.
	Addr string
	// Token is the remote session's bearer token (default
	// $GOVENE_SESSION_TOKEN).
	Token string
	// CAFile is a PEM certificate to verify the remote session's against
	// (such as the one serve writes); Fingerprint (default
	// $GOVENE_SESSION_FINGERPRINT) pins the certificate's SHA-256 instead.
	CAFile, Fingerprint string
	// IdleTimeout is given to a session Connect starts: it stops after that
	// long without a request (0: the server's default, 30 minutes;
	// negative: never).
	IdleTimeout time.Duration
	// MaxRequestBytes and MaxResponseBytes bound what the client sends and
	// accepts (0: DefaultMaxRequestBytes, DefaultMaxResponseBytes). A
	// session Connect starts gets the same limits.
	MaxRequestBytes, MaxResponseBytes int64
	// StartTimeout bounds how long Connect waits for a session it started
	// to answer (default 60 s; building the govene binary comes before).
	StartTimeout time.Duration
	// NoStart makes Connect fail rather than start a session.
	NoStart bool
	// Progress is where Intervenable.Train shows the session's training
	// progress in this process: a bar on a terminal, a line in a notebook,
	// a few lines in a log (default os.Stderr; io.Discard shows nothing).
	Progress io.Writer
}

// withEnv fills the fields left empty from the environment.
func (o Options) withEnv() Options {
	fill := func(p *string, env string) {
		if *p == "" {
			*p = os.Getenv(env)
		}
	}
	fill(&o.Addr, EnvAddr)
	if o.Addr == "" {
		fill(&o.Socket, EnvSocket)
	}
	fill(&o.Token, EnvToken)
	fill(&o.Fingerprint, EnvFingerprint)
	return o
}

// Connect returns a client of the session opts names: a remote one
// (Addr), one behind an explicit socket (Socket), or this kernel's local
// session, which it starts when none answers: it removes a stale socket
// (left by a session that was killed), runs `govene session serve`
// detached (its own process group; output to Dir/Name.log) and waits for
// it to answer. A lock file (Dir/Name.lock) makes two programs that
// connect at once share one session. FindBinary says which govene binary
// it runs. Errors name the socket or address and what failed.
func Connect(opts Options) (*Client, error) {
	return ConnectContext(context.Background(), opts)
}

// ConnectContext is Connect with a context that bounds the wait.
func ConnectContext(ctx context.Context, opts Options) (*Client, error) {
	opts = opts.withEnv()
	if opts.Addr != "" || opts.Socket != "" {
		c, err := Dial(opts)
		if err != nil {
			return nil, err
		}
		if err := c.Ping(ctx); err != nil {
			return nil, err
		}
		return c, nil
	}
	name, watch := opts.Name, 0
	if name == "" {
		name, watch = KernelName()
	}
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		opts.Dir = DefaultDir()
	}
	if err := EnsureDir(opts.Dir); err != nil {
		return nil, err
	}
	opts.Socket = SocketPath(opts.Dir, name)
	c, err := Dial(opts)
	if err != nil {
		return nil, err
	}
	if err := c.Ping(ctx); err == nil {
		return c, nil
	} else if !errors.Is(err, ErrGone) {
		return nil, err // a session answers, but not as it should
	}
	if opts.NoStart {
		return nil, fmt.Errorf("session %s: %w, and Options.NoStart is set", opts.Socket, ErrGone)
	}
	unlock, err := lockFile(filepath.Join(opts.Dir, name+".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if c.Ping(ctx) == nil { // another program started it while we waited
		return c, nil
	}
	if err := os.Remove(opts.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("session: removing the stale socket: %w", err)
	}
	if err := start(ctx, c, opts, name, watch); err != nil {
		return nil, err
	}
	c.newStart = true
	return c, nil
}

// lockFile takes an exclusive lock on path (created 0600), waiting for
// another holder; the returned func releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("session: lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("session: locking %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// start runs the session server detached and waits until it answers, it
// exits, or opts.StartTimeout passes.
func start(ctx context.Context, c *Client, opts Options, name string, watch int) error {
	bin, err := FindBinary(ctx)
	if err != nil {
		return err
	}
	logPath := filepath.Join(opts.Dir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("session: log file: %w", err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- %s: starting session %s for pid %d\n", time.Now().Format(time.RFC3339), name, os.Getpid())
	args := []string{"session", "serve", "-socket", opts.Socket, "-idle", opts.IdleTimeout.String()}
	if opts.IdleTimeout == 0 {
		args = args[:len(args)-2]
	}
	if watch > 0 {
		args = append(args, "-watch-pid", strconv.Itoa(watch))
	}
	if opts.MaxRequestBytes > 0 {
		args = append(args, "-max-request", strconv.FormatInt(opts.MaxRequestBytes, 10))
	}
	if opts.MaxResponseBytes > 0 {
		args = append(args, "-max-response", strconv.FormatInt(opts.MaxResponseBytes, 10))
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = serverEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = opts.Dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("session: starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("session: %s %s exited before answering (%v); its log %s ends:\n%s", bin, strings.Join(args, " "), err, logPath, logTail(logPath))
		case <-deadline.C:
			return fmt.Errorf("session: %s did not answer on %s within %s (Options.StartTimeout); see its log %s", bin, opts.Socket, timeout, logPath)
		case <-ctx.Done():
			return fmt.Errorf("session: waiting for the session to start: %w", ctx.Err())
		case <-tick.C:
			if c.Ping(ctx) == nil {
				return nil
			}
		}
	}
}

// logTail returns the last lines of a log file.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// serverEnv is the session's environment: the cell's, without GoNB's
// display pipes (GONB_PIPE, GONB_PIPE_BACK). The session outlives the
// cell that starts it; holding that cell's pipes, it could take display
// data and widget messages meant for the kernel and later cells.
func serverEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GONB_PIPE") {
			out = append(out, kv)
		}
	}
	return out
}
