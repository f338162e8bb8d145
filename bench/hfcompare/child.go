package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// outcome is what one case did in its own process.
type outcome struct {
	Kind   string // "ok", "rejected", "accepted" (wrong result, no error), "partial", "panic", "crash", "hang"
	Detail string // the result line, the error, or the panic's first line
}

func (o outcome) String() string {
	if o.Detail == "" {
		return o.Kind
	}
	return o.Kind + ": " + o.Detail
}

// childTimeout bounds every case run in a subprocess.
var childTimeout = 20 * time.Second

// runChild runs this program as "hfcompare child args..." with extra
// environment variables and a time limit, and classifies what it did: a
// RESULT line ("ok ..." or "rejected ..."), a Go panic, another crash (out
// of memory, signal), or a hang (killed at the limit).
func runChild(env []string, args ...string) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"child"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := out.String()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return outcome{"hang", fmt.Sprintf("no answer in %s", childTimeout)}
	}
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			kind, detail, _ := strings.Cut(rest, " ")
			return outcome{kind, detail}
		}
	}
	if i := strings.Index(text, "panic: "); i >= 0 {
		line, _, _ := strings.Cut(text[i:], "\n")
		return outcome{"panic", line}
	}
	if strings.Contains(text, "out of memory") {
		return outcome{"crash", "out of memory"}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	return outcome{"crash", fmt.Sprintf("%v: %s", err, first)}
}

// report prints the RESULT line a child ends with.
func report(err error, okDetail string) {
	if err != nil {
		fmt.Printf("RESULT rejected %s\n", oneLine(err.Error()))
		return
	}
	fmt.Printf("RESULT ok %s\n", okDetail)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// limitMemory caps the child's address space so that reading an endless
// file fails instead of exhausting the machine.
func limitMemory(bytes uint64) {
	_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: bytes, Max: bytes})
}
