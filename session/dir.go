package session

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
)

// DefaultDir returns the folder that holds this user's session sockets,
// locks and logs: $XDG_RUNTIME_DIR/govene when XDG_RUNTIME_DIR is set,
// else os.TempDir()/govene-<uid>. It does not create it (EnsureDir does).
func DefaultDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "govene")
	}
	return filepath.Join(os.TempDir(), "govene-"+strconv.Itoa(os.Getuid()))
}

// EnsureDir creates dir (mode 0700) when missing and checks that only this
// user can open it: it must be a real folder (not a link), owned by this
// user, with no group or other permission bits. It returns an error naming
// the folder and what is wrong otherwise; it never loosens or tightens an
// existing folder's mode itself.
func EnsureDir(dir string) error {
	if dir == "" {
		return errors.New("session: the socket folder is empty")
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("session: creating the socket folder: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("session: socket folder: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("session: socket folder %s is not a folder (mode %s); remove it or choose another with Options.Dir", dir, st.Mode())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return fmt.Errorf("session: socket folder %s belongs to uid %d, not to this user (uid %d): refusing to use it; remove it or choose another with Options.Dir", dir, sys.Uid, os.Getuid())
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("session: socket folder %s has mode %04o: others could reach the sessions; it must be 0700 (chmod 700 %s)", dir, perm, dir)
	}
	return nil
}

// Environment variables the session client reads.
const (
	// EnvName names the session (Options.Name); by default it is the
	// Jupyter kernel's (see KernelName).
	EnvName = "GOVENE_SESSION"
	// EnvSocket is an explicit socket path (Options.Socket), for example
	// the local end of an SSH-forwarded socket.
	EnvSocket = "GOVENE_SESSION_SOCKET"
	// EnvAddr, EnvToken and EnvFingerprint give a remote session
	// (Options.Addr, Token and Fingerprint).
	EnvAddr        = "GOVENE_SESSION_ADDR"
	EnvToken       = "GOVENE_SESSION_TOKEN"
	EnvFingerprint = "GOVENE_SESSION_FINGERPRINT"
	// EnvBin is the govene binary that serves sessions (see FindBinary).
	EnvBin = "GOVENE_BIN"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// CheckName returns nil when name can name a session (it becomes a file
// name): a letter or digit, then up to 63 letters, digits, '_', '.' or '-'.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("session: name %q is not valid: it must start with a letter or digit and have at most 64 letters, digits, '_', '.' or '-'", name)
	}
	return nil
}

// KernelName returns the session name of the running program: $GOVENE_SESSION
// when set; inside a GoNB cell, "gonb-" and a hash of $GONB_TMP_DIR, the
// folder GoNB creates for each kernel process (os.TempDir()/gonb_<random>),
// so that each kernel, and each restart of it, gets its own session; else
// "default". The second result is the pid of the GoNB kernel (the cell's
// parent process), 0 outside GoNB: a session started for a kernel stops
// when that process exits.
func KernelName() (string, int) {
	if n := os.Getenv(EnvName); n != "" {
		return n, 0
	}
	if d := os.Getenv("GONB_TMP_DIR"); d != "" {
		sum := sha256.Sum256([]byte(d))
		pid := os.Getppid()
		if pid <= 1 {
			pid = 0
		}
		return "gonb-" + hex.EncodeToString(sum[:6]), pid
	}
	return "default", 0
}

// SocketPath returns the socket of session name in dir.
func SocketPath(dir, name string) string { return filepath.Join(dir, name+".sock") }
