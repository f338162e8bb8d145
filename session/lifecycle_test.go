package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/govene/govene/session"
)

// helperEnv makes the test binary a client program: it connects to the
// session it names, prints "pid=<session pid> started=<bool>" and exits.
const helperEnv = "GOVENE_SESSION_TEST_HELPER"

var (
	testDir   string // a short private folder: the built binary and the sockets
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		os.Exit(helper(name))
	}
	var err error
	if testDir, err = os.MkdirTemp("", "gvs"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rt := filepath.Join(testDir, "rt")
	if err := os.Mkdir(rt, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_RUNTIME_DIR", rt)
	for _, v := range []string{"GONB_TMP_DIR", session.EnvName, session.EnvSocket, session.EnvAddr, session.EnvToken, session.EnvFingerprint} {
		os.Unsetenv(v)
	}
	code := m.Run()
	if bin := os.Getenv(session.EnvBin); bin != "" { // stop what the tests left running
		_ = exec.Command(bin, "session", "stop", "-all").Run()
	}
	os.RemoveAll(testDir)
	os.Exit(code)
}

// goveneBin builds cmd/govene once per test run into the test folder and
// points $GOVENE_BIN at it.
func goveneBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the govene binary")
	}
	bin := filepath.Join(testDir, "govene")
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", bin, "../cmd/govene").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/govene: %v\n%s", err, out)
			return
		}
		os.Setenv(session.EnvBin, bin)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

func helper(name string) int {
	opts := session.Options{Name: name}
	if name == "-" {
		opts.Name = "" // the kernel's
	}
	c, err := session.Connect(opts)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	st, err := c.Status(context.Background())
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Printf("pid=%d started=%v\n", st.PID, c.Started())
	return 0
}

var helperRE = regexp.MustCompile(`^pid=(\d+) started=(true|false)\n$`)

// runHelper runs the test binary as a separate client program and returns
// the session's pid and whether that program started it.
func runHelper(t *testing.T, name string, env ...string) (int, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, helperEnv+"="+name)...)
	out, err := cmd.CombinedOutput()
	m := helperRE.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("client program for %s: %v\n%s", name, err, out)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	return pid, string(m[2]) == "true"
}

func connect(t *testing.T, opts session.Options) (*session.Client, int) {
	t.Helper()
	c, err := session.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c, st.PID
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("waited 10 s for %s", what)
}

func processGone(pid int) func() bool {
	return func() bool { return syscall.Kill(pid, 0) == syscall.ESRCH }
}

func gone(path string) func() bool {
	return func() bool { _, err := os.Lstat(path); return errors.Is(err, os.ErrNotExist) }
}

// TestStartAndReuse: a first program starts the session, a second one
// and this one reuse it; an explicit socket reaches it, and never starts
// one.
func TestStartAndReuse(t *testing.T) {
	goveneBin(t)
	pid1, started1 := runHelper(t, "reuse")
	pid2, started2 := runHelper(t, "reuse")
	if !started1 || started2 || pid1 != pid2 {
		t.Fatalf("two programs: pids %d, %d, started %v, %v; want one session, started by the first", pid1, pid2, started1, started2)
	}
	c, pid := connect(t, session.Options{Name: "reuse"})
	if pid != pid1 || c.Started() {
		t.Fatalf("this process: pid %d (started %v), want %d", pid, c.Started(), pid1)
	}
	sock := session.SocketPath(session.DefaultDir(), "reuse")
	if c.Address() != sock {
		t.Errorf("Address = %s, want %s", c.Address(), sock)
	}
	if st, err := os.Stat(sock); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("socket %s: %v, %v; want mode 0600", sock, st.Mode(), err)
	}
	if data, err := os.ReadFile(filepath.Join(session.DefaultDir(), "reuse.log")); err != nil || !strings.Contains(string(data), "serving on "+sock) {
		t.Errorf("the session log: %q, %v", data, err)
	}
	if _, p := connect(t, session.Options{Socket: sock}); p != pid1 {
		t.Errorf("explicit socket: pid %d, want %d", p, pid1)
	}
	if _, err := session.Connect(session.Options{Socket: sock + ".none"}); !errors.Is(err, session.ErrGone) {
		t.Errorf("explicit socket with no session: %v, want ErrGone", err)
	}
}

// TestConcurrentStart: two programs that connect at once share one
// session (the lock file).
func TestConcurrentStart(t *testing.T) {
	goveneBin(t)
	type res struct {
		pid     int
		started bool
	}
	var wg sync.WaitGroup
	out := make([]res, 3)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].pid, out[i].started = runHelper(t, "race")
		}()
	}
	wg.Wait()
	starts := 0
	for _, r := range out {
		if r.started {
			starts++
		}
		if r.pid != out[0].pid {
			t.Errorf("programs connected to different sessions: %+v", out)
		}
	}
	if starts != 1 {
		t.Errorf("%d programs started a session, want 1: %+v", starts, out)
	}
}

// TestIdleStopRemovesSocket: a session started with an idle timeout stops
// by itself and removes its socket; the next call says it is gone.
func TestIdleStopRemovesSocket(t *testing.T) {
	goveneBin(t)
	c, pid := connect(t, session.Options{Name: "idle", IdleTimeout: 300 * time.Millisecond})
	waitFor(t, "the idle session to exit", processGone(pid))
	waitFor(t, "the socket to go", gone(c.Address()))
	if err := c.Ping(context.Background()); !errors.Is(err, session.ErrGone) {
		t.Errorf("ping after the idle stop: %v, want ErrGone", err)
	}
}

// TestKillRecovery: after kill -9 the next call says the session died and
// Connect starts a new one in place of the stale socket.
func TestKillRecovery(t *testing.T) {
	goveneBin(t)
	c, pid := connect(t, session.Options{Name: "kill"})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the killed session to exit", processGone(pid))
	if _, err := os.Lstat(c.Address()); err != nil {
		t.Fatalf("the killed session's socket should be left behind: %v", err)
	}
	if out, _ := exec.Command(goveneBin(t), "session", "ls", "-name", "kill").CombinedOutput(); !strings.HasPrefix(string(out), "kill: not running (stale socket "+c.Address()) {
		t.Errorf("govene session ls after kill -9: %q", out)
	}
	err := c.Ping(context.Background())
	if !errors.Is(err, session.ErrGone) || !strings.Contains(err.Error(), "session.Connect starts a new one") {
		t.Fatalf("ping after kill -9: %v", err)
	}
	c2, pid2 := connect(t, session.Options{Name: "kill"})
	if pid2 == pid || !c2.Started() {
		t.Fatalf("Connect after kill -9: pid %d (started %v), want a new session", pid2, c2.Started())
	}
}

// TestKernelSession: under GoNB (GONB_TMP_DIR set) the session is the
// kernel's: another kernel gets another one, and it stops when its kernel
// (the client's parent process) exits.
func TestKernelSession(t *testing.T) {
	goveneBin(t)
	// A shell stands for the kernel: it runs the cell program, then lives
	// on until its stdin closes.
	kernel := exec.Command("sh", "-c", `"$0" -test.run='^$'; echo done; read x`, os.Args[0])
	kernel.Env = append(os.Environ(), helperEnv+"=-", "GONB_TMP_DIR=/tmp/gonb_kernel1")
	stdin, err := kernel.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := kernel.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := kernel.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var lines []string
	for sc.Scan() && sc.Text() != "done" {
		lines = append(lines, sc.Text())
	}
	m := helperRE.FindStringSubmatch(strings.Join(lines, "\n") + "\n")
	if m == nil {
		t.Fatalf("the cell program printed %q", lines)
	}
	pid, _ := strconv.Atoi(m[1])
	other, _ := runHelper(t, "-", "GONB_TMP_DIR=/tmp/gonb_kernel2")
	if other == pid {
		t.Errorf("two kernels share session pid %d", pid)
	}
	if syscall.Kill(pid, 0) != nil {
		t.Fatalf("the session of a running kernel is gone")
	}
	stdin.Close() // the kernel exits
	_ = kernel.Wait()
	waitFor(t, "the session to stop after its kernel", processGone(pid))
}

// TestCommands runs govene session ls, stop and serve -listen.
func TestCommands(t *testing.T) {
	bin := goveneBin(t)
	_, pid := connect(t, session.Options{Name: "cli"})
	run := func(args ...string) string {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("govene %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := run("session", "ls", "-name", "cli"); !strings.Contains(out, fmt.Sprintf("cli: pid %d at ", pid)) || !strings.Contains(out, "methods: cache.release, ") || !strings.Contains(out, "iv.forward, ") || !strings.Contains(out, "ping, status, stop") {
		t.Errorf("govene session ls:\n%s", out)
	}
	if out := run("session", "stop", "-name", "cli"); out != "cli: stopped\n" {
		t.Errorf("govene session stop: %q", out)
	}
	waitFor(t, "the stopped session to exit", processGone(pid))
	if out := run("session", "stop", "-name", "cli"); out != "cli: not running\n" {
		t.Errorf("govene session stop of a stopped session: %q", out)
	}

	// serve -listen: loopback TCP with TLS and a token.
	dir := filepath.Join(testDir, "tcp")
	serve := exec.Command(bin, "session", "serve", "-listen", "127.0.0.1:0", "-name", "tcp", "-dir", dir, "-idle", "1m")
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Kill()
		_ = serve.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	var env map[string]string
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "connect with: "); ok {
			env = map[string]string{}
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			break
		}
	}
	addr := env[session.EnvAddr]
	if !strings.HasPrefix(addr, "127.0.0.1:") || len(env[session.EnvToken]) != 64 {
		t.Fatalf("serve -listen printed %v", env)
	}
	if st, err := os.Stat(filepath.Join(dir, "tcp.token")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token file: %v, %v; want mode 0600", st, err)
	}
	opts := session.Options{Addr: addr, Token: env[session.EnvToken], Fingerprint: env[session.EnvFingerprint]}
	if _, err := session.Connect(opts); err != nil {
		t.Errorf("Connect with the printed token: %v", err)
	}
	opts.Token = "wrong"
	if _, err := session.Connect(opts); err == nil || !strings.Contains(err.Error(), "missing or wrong token") {
		t.Errorf("Connect with a wrong token: %v", err)
	}
}
